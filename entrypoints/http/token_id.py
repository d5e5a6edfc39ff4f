"""TokenIDGeneratorController: /tokenid/{uin}/{partnercode}."""
from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response

from application.use_cases.token_id import GenerateTokenId

from ..containers import Container
from .envelope import success

blueprint = Blueprint("token_id", __name__)


@blueprint.get("/tokenid/<uin>/<partnercode>")
@inject
def token_id(uin: str, partnercode: str, use_case: GenerateTokenId = Provide[Container.generate_token_id]) -> Response:
    return success({"tokenID": use_case.execute(uin, partnercode)})
