"""The Kubernetes side of the deployment, checked without a cluster: the chart's values follow the
domain folders, and every object they lead to validates against Kubernetes' own schemas (offline,
``kubernetes-validate``'s bundled ones): each code server's container and the Job
``K8sRunLauncher`` creates for a run of each location."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from data_platform.automation.jobs import daily_job_name
from data_platform.deployment.helm_values import (
    code_server_container,
    helm_values,
    run_launcher_settings,
    values_drift,
    values_text,
    write_values,
)
from data_platform.settings import resolve_settings
from data_platform.showback.assets import JOB as SHOWBACK_JOB

from ..support.fixture_domains import fixture_settings
from ..support.k8s_run_job import run_worker_job

KUBERNETES = "1.33.0"
"""The oldest Kubernetes version still supported upstream when this was written; strict: an unknown field fails."""


@pytest.fixture
def values(tmp_path):
    with fixture_settings(tmp_path) as settings:
        yield helm_values(settings)


def deployments(values) -> dict:
    return {d["name"]: d for d in values["dagster-user-deployments"]["deployments"]}


def test_the_committed_values_hold_a_user_deployment_per_code_location():
    assert values_drift(resolve_settings({})) is None


def test_a_domain_added_without_its_deployment_fails_the_check_naming_it(tmp_path):
    with fixture_settings(tmp_path, ("shop",)) as settings:
        values_file = write_values(settings, tmp_path / "values.yaml")
        (settings.domains_dir / "new_team").mkdir()
        (settings.domains_dir / "new_team" / "domain.yaml").write_text("description: x\n")
        drift = values_drift(settings, values_file)
    assert drift is not None and "no user deployment for new-team" in drift and "data-platform workspace" in drift


def test_a_deployment_whose_domain_is_gone_fails_the_check_naming_it(tmp_path):
    with fixture_settings(tmp_path) as settings:
        values_file = write_values(settings, tmp_path / "values.yaml")
    with fixture_settings(tmp_path / "fewer", ("shop",)) as settings:
        drift = values_drift(settings, values_file)
    assert drift is not None and "a user deployment of no domain: reports" in drift


def test_each_domain_and_the_platform_get_a_code_server_of_the_one_image(values):
    by_name = deployments(values)
    assert list(by_name) == ["platform", "reports", "shop"]
    assert len({(d["image"]["repository"], d["image"]["tag"]) for d in by_name.values()}) == 1
    assert by_name["shop"]["dagsterApiGrpcArgs"][:2] == ["--python-file", "/opt/data-platform/platform/domains/shop/definitions.py"]
    assert {"name": "data-platform-shop"} in by_name["shop"]["envSecrets"], "a domain's own secret, not another's"
    assert {"name": "data-platform-shop"} not in by_name["reports"]["envSecrets"]


def test_no_secret_value_is_written_in_the_values(values):
    text = yaml.safe_dump(values).lower()
    assert "password:" not in text.replace("postgresqlpassword", "") and "token" not in text
    assert values["generatePostgresqlPasswordSecret"] is False and values["global"]["postgresqlSecretName"]


def test_run_monitoring_retries_and_the_warehouse_pool_are_on(values):
    daemon = values["dagsterDaemon"]
    assert daemon["runMonitoring"]["enabled"] and daemon["runMonitoring"]["freeSlotsAfterRunEndSeconds"] > 0
    assert daemon["runRetries"]["enabled"] and daemon["runRetries"]["maxRetries"] >= 1
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert values["concurrency"]["pools"]["defaultLimit"] >= 1
    assert values["runLauncher"]["type"] == "K8sRunLauncher"


@pytest.mark.parametrize("location", ["platform", "shop", "reports"])
def test_each_code_servers_deployment_validates_against_the_kubernetes_schema(values, location):
    deployment = deployments(values)[location]
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"dagster-user-deployments-{location}", "labels": deployment["labels"]},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": deployment["labels"]},
            "template": {
                "metadata": {"labels": deployment["labels"]},
                "spec": {"securityContext": deployment["podSecurityContext"], "containers": [code_server_container(deployment)]},
            },
        },
    }
    kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


@pytest.mark.parametrize("location", ["platform", "shop", "reports"])
def test_the_job_k8s_run_launcher_creates_for_a_run_of_each_location_validates(values, location, tmp_path):
    deployment = deployments(values)[location]
    job_name = SHOWBACK_JOB if location == "platform" else daily_job_name(location)
    job = run_worker_job(run_launcher_settings(values), deployment, job_name, tmp_path)
    kubernetes_validate.validate(job, KUBERNETES, strict=True)
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"{deployment['image']['repository']}:{deployment['image']['tag']}", "the location's image"
    assert container["args"][:5] == ["/opt/data-platform/.venv/bin/python", "-m", "dagster", "api", "execute_run"], "the image's own Python"
    assert {"secretRef": {"name": "data-platform-common"}} in container["envFrom"]
    if location != "platform":
        assert {"secretRef": {"name": f"data-platform-{location}"}} in container["envFrom"], "the domain's own secret reaches its runs"
    assert {"name": "DATA_PLATFORM_ENV", "value": "prod"} in container["env"]
    assert {"name": "DAGSTER_EVENT_BATCH_SIZE", "value": "100"} in container["env"], "a range run's events stored in batches"
    assert container["resources"]["limits"]["memory"] == "4Gi"
    assert job["spec"]["backoffLimit"] == 0, "a failed run is retried by Dagster's run retries, not by Kubernetes behind its back"
    password = [e for e in container["env"] if e["name"] == "DAGSTER_PG_PASSWORD"]
    assert (
        password
        and "value" not in password[0]
        and password[0]["valueFrom"]["secretKeyRef"]["name"] == values["global"]["postgresqlSecretName"]
    )


def test_a_job_with_a_field_kubernetes_does_not_know_is_refused(values, tmp_path):
    """The validation can fail: a misspelt field in the run's Job is caught here, not at 3 a.m."""
    job = run_worker_job(run_launcher_settings(values), deployments(values)["shop"], daily_job_name("shop"), tmp_path)
    job["spec"]["template"]["spec"]["containers"][0]["resources"]["limitz"] = {"memory": "4Gi"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBERNETES, strict=True)


def test_the_values_file_says_which_chart_version_it_is_for(tmp_path):
    with fixture_settings(tmp_path) as settings:
        header = values_text(settings).splitlines()[:4]
    import dagster

    assert any(f"--version {dagster.__version__}" in line for line in header)
