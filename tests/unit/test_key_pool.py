"""The test suite's pool of pre-generated RSA-2048 keys (tests/support/key_pool.py) and how keys reach
the keystores: through the container's ``rsa_key_source``, a fresh key per call unless a test
overrides it."""
from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.memory.keystore import MemoryKeystore
from adapters.pkcs12.keystore import Pkcs12Keystore
from application.crypto.primitives import generate_rsa_key
from application.use_cases.keymanager.get_certificate import GetCertificateCommand
from entrypoints.containers import build_container
from tests.support.containers import init_master_keys, memory_settings
from tests.support.key_pool import RsaKeyPool


def numbers(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> rsa.RSAPublicNumbers:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_numbers()


def test_a_source_gives_distinct_keys_and_the_next_source_reuses_them() -> None:
    pool = RsaKeyPool()
    first = pool.source()
    keys = [first() for _ in range(3)]
    assert len({numbers(key).n for key in keys}) == 3
    assert all(key.key_size == 2048 and numbers(key).e == 65537 for key in keys)
    assert len(pool) == 3
    second = pool.source()
    assert [second() for _ in range(3)] == keys  # made once, reused
    assert numbers(second()).n not in {numbers(key).n for key in keys}  # one more when a source needs it
    assert len(pool) == 4


def test_the_containers_of_a_test_draw_from_its_source(container, rsa_key_pool: RsaKeyPool) -> None:
    """conftest's ``container``: ROOT, REGISTRATION and KERNEL/SIGN are the pool's first three keys,
    and a base key (held wrapped in the store, made by the key hierarchy) is the fourth."""
    expected = rsa_key_pool.source()
    get = container.get_certificate()
    made = [get.execute(GetCertificateCommand(app_id=app, ref_id=ref)).certificate_pem
            for app, ref in (("ROOT", ""), ("REGISTRATION", ""), ("KERNEL", "SIGN"), ("REGISTRATION", "base"))]
    for pem in made:
        assert pem is not None
        assert numbers(x509.load_pem_x509_certificate(pem.encode()).public_key()) == numbers(expected())


def test_two_containers_of_one_test_get_different_keys(make_container, memory_settings, tmp_path) -> None:
    first = make_container(memory_settings)
    second = make_container(memory_settings.with_overrides(data_dir=tmp_path / "other"))
    for built in (first, second):
        init_master_keys(built, ("ROOT",))
    pems = [built.get_certificate().execute(GetCertificateCommand(app_id="ROOT")).certificate_pem
            for built in (first, second)]
    assert pems[0] != pems[1]


def test_the_service_makes_a_fresh_key_every_time(tmp_path) -> None:
    built = build_container(memory_settings(tmp_path / "data"))
    assert built.rsa_key_source() is generate_rsa_key
    init_master_keys(built, ("ROOT", "REGISTRATION"))
    pems = {built.get_certificate().execute(GetCertificateCommand(app_id=app)).certificate_pem
            for app in ("ROOT", "REGISTRATION")}
    assert len(pems) == 2
    assert MemoryKeystore().generate_key_pair("a") != MemoryKeystore().generate_key_pair("a")
    keystore = Pkcs12Keystore(tmp_path / "p12", b"password")
    assert keystore.generate_key_pair("a") != keystore.generate_key_pair("b")
