"""docs/deployment.md shows the HAProxy configuration ``make cluster`` runs: the two must not drift apart."""

from __future__ import annotations

from pathlib import Path

from tests.cluster.balancer import Instance, render_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


def test_the_documented_haproxy_cfg_is_the_one_the_cluster_run_uses() -> None:
    sample = render_config(
        2575, 8080, [Instance("hub-a", 2575, 8080, "10.0.1.11"), Instance("hub-b", 2575, 8080, "10.0.1.12")], bind=""
    )
    assert f"```\n{sample}```" in DOC.read_text()


def test_every_instance_is_checked_on_readyz_and_loses_its_sessions_when_down() -> None:
    config = render_config(1, 2, [Instance("a", 3, 4), Instance("b", 5, 6)], broker_port=7, brokers=[("c1", 8)])
    assert config.count("option httpchk GET /readyz") == 2
    assert config.count("on-marked-down shutdown-sessions") == 3  # MLLP, HTTP and the broker nodes
    assert "server a 127.0.0.1:3 check port 4" in config and "server b 127.0.0.1:6 check port 6" in config
    assert "server c1 127.0.0.1:8 check" in config
