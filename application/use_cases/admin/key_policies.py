"""Key policies (key_policy_def): list them, and change one (issue 17).

A change is validated (domain/key_inventory.policy_problems), written together with its audit record
in one transaction (the record names who, ``setKeyPolicy`` and the application; a change without
its record, or a record of a change that rolled back, cannot happen), and takes effect for the next
key on every instance: every path that creates a key reads the policy from the store, not from the
cache (KeyHierarchy.require_policy(fresh=True)). This instance's cache is refreshed at once; other
instances' caches still serve the pre-expiry window for at most KEYMANAGER_POLICY_CACHE_TTL_SECONDS.

Changing an application that has no policy yet creates its row: that is how an operator allows
key generation for a new application (the reference: an SQL insert into key_policy_def).
"""
from __future__ import annotations

from dataclasses import dataclass

from application.keys.hierarchy import KeyHierarchy, audit_subject
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.audit import AuditEvent
from domain.errors import ValidationError
from domain.key_inventory import policy_problems
from domain.keys import KeyPolicy

#: The record written with the change (the HTTP request is also recorded, as `updateKeyPolicy`, whatever its outcome).
OPERATION = "setKeyPolicy"


@dataclass(frozen=True)
class SetKeyPolicyCommand:
    app_id: str
    validity_days: int
    pre_expire_days: int
    access_allowed: tuple[str, ...] = ("NA",)


@dataclass(frozen=True)
class SetKeyPolicyResult:
    policy: KeyPolicy
    created: bool  # no row existed for the application


class ListKeyPolicies:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self.uow_factory = uow_factory

    def execute(self) -> list[KeyPolicy]:
        with self.uow_factory() as uow:
            return uow.keys.policies()


class SetKeyPolicy:
    def __init__(self, hierarchy: KeyHierarchy, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock

    def execute(self, command: SetKeyPolicyCommand) -> SetKeyPolicyResult:
        app_id = command.app_id.strip()
        problems = policy_problems(app_id, command.validity_days, command.pre_expire_days, command.access_allowed)
        if problems:
            raise ValidationError([f"Invalid request: {problem}" for problem in problems])
        with self.uow_factory() as uow:
            previous = uow.keys.policy(app_id)
            policy = KeyPolicy(app_id, command.validity_days, command.pre_expire_days,
                               ",".join(command.access_allowed), is_active=True)
            uow.keys.save_policy(policy)
            uow.audit.append(AuditEvent(operation=OPERATION, subject=audit_subject.get(), app_id=app_id),
                             self.clock.now())
            uow.commit()
        self.hierarchy.forget_policy(app_id)
        return SetKeyPolicyResult(policy, created=previous is None)
