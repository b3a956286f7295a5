"""The issue's targets for this 2-core machine, checked against a run's figures."""

from __future__ import annotations

from bench.report import BenchReport, ScenarioResult, Target


def _ingest(report: BenchReport, senders: int) -> ScenarioResult | None:
    return next((r for r in report.scenarios if r.kind == "hl7-mllp" and r.concurrency == senders), None)


def evaluate(report: BenchReport, layout: str, database: str = "sqlite") -> list[Target]:
    """Targets that this run's scenarios can speak to (a scenario not run gives no verdict)."""
    targets = [*_fhir_and_workflow(report, database)]
    if (one := _ingest(report, 1)) is not None:
        targets.append(
            Target(
                name="HL7 ingest, 1 sequential sender",
                wanted=">= 300 msg/s",
                measured=f"{one.summary.rate:.0f} msg/s",
                met=one.summary.rate >= 300,
            )
        )
    if (eight := _ingest(report, 8)) is not None:
        targets.append(
            Target(
                name="HL7 ingest, 8 senders",
                wanted=">= 600 msg/s",
                measured=f"{eight.summary.rate:.0f} msg/s",
                met=eight.summary.rate >= 600,
            )
        )
        targets.append(
            Target(
                name="HL7 ingest, 8 senders, ACK p99",
                wanted="<= 50 ms",
                measured=f"{eight.summary.p99_ms:.1f} ms",
                met=eight.summary.p99_ms <= 50,
            )
        )
    if layout == "all-in-one" and report.final_rss_mb:
        rss = sum(report.final_rss_mb.values())  # rxhub run with its forked worker processes, all of it
        when = "after the sustained run" if report.sustained else "after a run WITHOUT --sustained"
        targets.append(Target(name=f"rxhub run RSS {when}", wanted="< 300 MB", measured=f"{rss:.0f} MB", met=rss < 300))
    if report.sustained is not None:
        for verdict, ok in report.sustained.verdicts.items():
            targets.append(Target(name=f"sustained: {verdict}", wanted="ok", measured="ok" if ok else "FAIL", met=ok))
    return targets


def _fhir_and_workflow(report: BenchReport, database: str) -> list[Target]:
    """FHIR ingest >= 400 requests/s (the best concurrency measured); workflow >= 100 orders/s on PostgreSQL."""
    targets = []
    fhir = [r for r in report.scenarios if r.kind == "fhir-http"]
    if fhir:
        best = max(fhir, key=lambda r: r.summary.rate)
        targets.append(
            Target(
                name=f"FHIR ingest (best: {best.name})",
                wanted=">= 400 req/s",
                measured=f"{best.summary.rate:.0f} req/s",
                met=best.summary.rate >= 400,
            )
        )
    for w in report.workflow:
        if database == "postgres":
            targets.append(
                Target(
                    name="workflow to READY on PostgreSQL",
                    wanted=">= 100 orders/s",
                    measured=f"{w.rate:.1f} orders/s",
                    met=w.rate >= 100,
                )
            )
    return targets
