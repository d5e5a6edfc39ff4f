"""TokenIDGeneratorController: /tokenid/{uin}/{partnercode}."""
from __future__ import annotations

from flask import Response

from application.use_cases.token_id.generate_token_id import GenerateTokenId

from . import responses
from .envelope import success
from .routes import Controller

api = Controller("token_id", tag="token-id-generator-controller")
blueprint = api.blueprint


@api.get("/tokenid/<uin>/<partnercode>", summary="The token id of a UIN for a partner (a salted, peppered hash)",
         role="getuinpartnercode", response=responses.TokenIdResponse, use_case="generate_token_id")
def token_id(uin: str, partnercode: str, use_case: GenerateTokenId) -> Response:
    return success({"tokenID": use_case.execute(uin, partnercode)})
