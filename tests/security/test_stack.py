"""The full stack (docker-compose.yml): nginx is the one way in, buffering whole requests
under timeouts and a body limit before gunicorn (gthread workers) sees them. Checked on
the file as docker-compose reads it (`docker-compose config`) and, where nginx is
installed, by nginx itself on the configuration it would run."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"


@pytest.fixture(scope="module")
def compose():
    if not shutil.which("docker-compose"):
        pytest.skip("docker-compose is not installed")
    result = subprocess.run(
        ["docker-compose", "config"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_nginx_is_the_only_published_way_in(compose):
    proxy = compose["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert [p["published"] if isinstance(p, dict) else p for p in proxy["ports"]] in (
        [8000],
        ["8000"],
        ["8000:8000"],
    )
    assert any("deploy/nginx.conf" in volume for volume in map(str, proxy["volumes"]))
    assert "ports" not in compose["web"]
    assert all("ports" not in service for name, service in compose.items() if name != "proxy")
    # The app reads the client's address from the header nginx overwrites.
    assert compose["web"]["environment"]["CLIENT_IP_HEADER"] == "HTTP_X_REAL_IP"


def test_gunicorn_runs_gthread_workers_everywhere(compose):
    web = compose["web"]["command"]
    assert web[web.index("--worker-class") + 1] == "gthread"
    dockerfile_cmd = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    )
    assert '"--worker-class", "gthread"' in dockerfile_cmd
    assert "--worker-class gthread" in (ROOT / "README.md").read_text()


def test_nginx_buffers_requests_under_timeouts_and_a_body_limit():
    conf = NGINX_CONF.read_text()
    for directive in (
        "client_header_timeout 10s;",
        "client_body_timeout 10s;",
        "send_timeout 30s;",
        "client_max_body_size 8m;",
        "proxy_request_buffering on;",
        "proxy_buffering on;",
        "proxy_set_header X-Real-IP $remote_addr;",
    ):
        assert directive in conf


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed")
def test_nginx_accepts_the_configuration(tmp_path):
    # The compose network's host name, for one nginx can resolve here.
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.read_text().replace("server web:8000;", "server 127.0.0.1:8000;"))

    result = subprocess.run(
        ["nginx", "-t", "-c", str(conf), "-p", str(tmp_path), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
