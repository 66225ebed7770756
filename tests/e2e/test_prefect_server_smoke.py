import requests


def test_server_on_postgres_answers(prefect_server):
    assert requests.get(f"{prefect_server.api}/health", timeout=5).json() is True
