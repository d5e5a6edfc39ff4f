"""Proactive rotation (issue 13): `keymanager rotate --due` makes each due key's successor once, and leaves
keys no request could renew alone."""
from __future__ import annotations

from datetime import timedelta

from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from domain.keys import KeyTuple

APP, REF = "REGISTRATION", "rot1"


def keys_of(container, key_tuple: KeyTuple):
    with container.uow_factory()() as uow:
        return uow.keys.aliases_for(key_tuple)


def test_nothing_is_due_on_a_fresh_hierarchy(container) -> None:
    container.get_certificate().execute(GetCertificateCommand(APP, REF))
    assert container.rotate_due_keys().execute() == []


def test_a_base_key_in_its_window_gets_its_successor_once(container, clock) -> None:
    container.get_certificate().execute(GetCertificateCommand(APP, REF))
    (first,) = keys_of(container, KeyTuple(APP, REF))
    clock.set(first.expires_at - timedelta(days=29))  # the base policy's window is 30 days
    use_case = container.rotate_due_keys()
    assert first.alias in [a.alias for a in use_case.due(clock.now())]
    done = {r.key_tuple: r for r in use_case.execute()}[KeyTuple(APP, REF)]
    assert (done.previous_alias, done.error_code) == (first.alias, None)
    aliases = keys_of(container, KeyTuple(APP, REF))
    assert len(aliases) == 2 and done.new_alias == aliases[-1].alias != first.alias
    assert use_case.execute() == []  # exactly once: the successor is current
    # the request that comes next pays nothing: it gets the successor
    assert container.get_certificate().execute(GetCertificateCommand(APP, REF)).created is False
    records = [r for r in container.audit_log().records() if r.key_alias == done.new_alias]
    assert [r.operation for r in records] == ["rotateKey"]


def test_secret_keys_and_other_parties_certificates_are_left_alone(container, clock) -> None:
    from application.use_cases.keymanager.generate_symmetric_key import GenerateSymmetricKeyCommand
    from application.use_cases.keymanager.upload_other_domain_certificate import UploadOtherDomainCertificateCommand
    from tests.support.http_api import self_signed_pem

    container.get_certificate().execute(GetCertificateCommand(APP, REF))
    container.generate_symmetric_key().execute(GenerateSymmetricKeyCommand("KERNEL", "IDENTITY_CACHE"))
    container.upload_other_domain_certificate().execute(
        UploadOtherDomainCertificateCommand("IDA", "PUBLIC_KEY", self_signed_pem("ida-rotation")))
    with container.uow_factory()() as uow:
        kinds = {(a.app_id, a.ref_id) for a in uow.keys.all_aliases()}
    assert {("KERNEL", "IDENTITY_CACHE"), ("IDA", "PUBLIC_KEY")} <= kinds
    clock.advance(timedelta(days=365 * 30))  # everything has long expired
    due = {(a.app_id, a.ref_id) for a in container.rotate_due_keys().due(clock.now())}
    assert (APP, REF) in due and ("ROOT", "") in due
    assert ("KERNEL", "IDENTITY_CACHE") not in due  # the ZK master: a secret key, no certificate
    assert ("IDA", "PUBLIC_KEY") not in due  # IDA's certificate: only IDA can renew it


def test_masters_are_renewed_before_the_base_keys_they_issue(container, clock) -> None:
    container.get_certificate().execute(GetCertificateCommand(APP, REF))
    clock.advance(timedelta(days=365 * 30))
    done = container.rotate_due_keys().execute()
    order = [r.key_tuple for r in done]
    assert order.index(KeyTuple("ROOT")) < order.index(KeyTuple(APP)) < order.index(KeyTuple(APP, REF))
    assert all(r.error_code is None and r.new_alias for r in done), done


def test_within_days_renews_a_key_before_its_window_and_only_once(container, clock) -> None:
    container.get_certificate().execute(GetCertificateCommand(APP, REF))
    (first,) = keys_of(container, KeyTuple(APP, REF))
    clock.set(first.expires_at - timedelta(days=45))  # window (30 days) opens in 15 days
    use_case = container.rotate_due_keys()
    assert KeyTuple(APP, REF) not in {r.key_tuple for r in use_case.execute()}  # not due yet
    done = {r.key_tuple: r for r in use_case.execute(timedelta(days=20))}[KeyTuple(APP, REF)]
    assert done.error_code is None and done.previous_alias == first.alias
    old, new = keys_of(container, KeyTuple(APP, REF))
    assert old.expires_at <= clock.now() and new.alias == done.new_alias  # retired now; it still decrypts
    # a second run (another instance with the same list) leaves the successor alone
    assert KeyTuple(APP, REF) not in {r.key_tuple for r in use_case.execute(timedelta(days=20))}
    assert len(keys_of(container, KeyTuple(APP, REF))) == 2


def test_a_retired_key_still_decrypts(container, clock) -> None:
    from application.use_cases.cryptomanager.decrypt_data import DecryptCommand
    from application.use_cases.cryptomanager.encrypt_data import EncryptCommand

    wire = container.encrypt_data().execute(EncryptCommand(APP, REF, b"before the rotation")).data
    (first,) = keys_of(container, KeyTuple(APP, REF))
    clock.set(first.expires_at - timedelta(days=45))
    container.rotate_due_keys().execute(timedelta(days=20))
    assert container.decrypt_data().execute(DecryptCommand(APP, REF, wire)).data == b"before the rotation"
