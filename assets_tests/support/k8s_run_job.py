"""The Kubernetes Job ``K8sRunLauncher`` creates for a run, captured instead of sent to a cluster.

As dagster-k8s's own tests do: the launcher gets a batch API that records the Job. A run's code
origin (which image, which location) is built from Dagster's origin types, which are private
(``dagster._core.origin``, ``dagster._core.code_pointer``): they are imported here only, because
a run launched from a code server carries them and no public constructor makes one.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from unittest import mock

import dagster as dg
from dagster._core.code_pointer import FileCodePointer, ModuleCodePointer
from dagster._core.launcher import LaunchRunContext
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster_k8s import K8sRunLauncher
from kubernetes.client import ApiClient

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: not-a-token}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


def run_worker_job(launcher_settings: dict[str, Any], deployment: dict[str, Any], job_name: str, tmp: Path) -> dict[str, Any]:
    """The Job (as the API would receive it) for a run of ``job_name`` in the user deployment ``deployment``."""
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    batch_api = mock.MagicMock()
    launcher = K8sRunLauncher(
        load_incluster_config=False, kubeconfig_file=str(kubeconfig), k8s_client_batch_api=batch_api, **launcher_settings
    )
    args = deployment["dagsterApiGrpcArgs"]
    pointer = (
        ModuleCodePointer(args[args.index("--module-name") + 1], "defs", None)
        if "--module-name" in args
        else FileCodePointer(args[args.index("--python-file") + 1], "defs", None)
    )
    image = f"{deployment['image']['repository']}:{deployment['image']['tag']}"
    container_context = {  # includeConfigInLaunchedRuns: the run pod gets its code server's env and secrets
        "k8s": {
            "env_secrets": [s["name"] for s in deployment["envSecrets"]],
            "env_vars": [f"{e['name']}={e['value']}" for e in deployment["env"]],
        }
    }
    origin = JobPythonOrigin(
        job_name, RepositoryPythonOrigin("/opt/data-platform/.venv/bin/python", pointer, image, None, container_context)
    )
    with dg.instance_for_test(temp_dir=str(tmp)) as instance:  # an instance on disk: a run's Job names it
        launcher.register_instance(instance)
        run = instance.add_run(dg.DagsterRun(job_name=job_name, run_id=str(uuid.uuid4()), job_code_origin=origin))
        launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    body = batch_api.create_namespaced_job.call_args.kwargs["body"]
    return ApiClient().sanitize_for_serialization(body)
