"""Airflow DAG `fx`: the mart project `fx`, one task per model, seed and snapshot.

Written by `mart airflow`; regenerate it instead of editing it:

    mart airflow --out dags --project-dir /tmp/mart_test_16483_8_airflow_unit --profiles-dir /tmp/mart_test_16483_8_airflow_unit

Every task runs one mart command for one node with --vars '{date_id: <date>}', <date>
being the logical date's calendar day in Asia/Seoul (YYYY-MM-DD). Dependencies are the
mart DAG; ephemeral models are inlined into their users and have no task.

To run one task by hand for a date, exactly as Airflow runs it:

    airflow tasks test fx m_run 2024-08-20

or, without Airflow, the same mart command (from the project folder):

    mart run --select m --vars '{date_id: 2024-08-20}'
"""

import os
import shlex
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

MART = "mart"
PROJECT_DIR = "/tmp/mart_test_16483_8_airflow_unit"
PROFILES_DIR = "/tmp/mart_test_16483_8_airflow_unit"
# The flags every task passes: where the project is, the target, the date.
MART_FLAGS = " ".join([
    "--project-dir", shlex.quote(PROJECT_DIR),
    "--profiles-dir", shlex.quote(PROFILES_DIR),
    "--vars '{date_id: {{ logical_date.in_timezone(\"Asia/Seoul\").strftime(\"%Y-%m-%d\") }}}'",
])

# task id: (mart command, upstream task ids)
TASKS = {
    "m_run": ("run --select m", []),
}

with DAG(
    dag_id="fx",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Seoul"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=4,
    default_args={
        "owner": "mart",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
    },
    doc_md=__doc__,
    tags=["mart"],
) as dag:
    tasks = {
        task_id: BashOperator(
            task_id=task_id,
            bash_command=f"{shlex.quote(MART)} {command} {MART_FLAGS}",
        )
        for task_id, (command, _) in TASKS.items()
    }
    for task_id, (_, upstream) in TASKS.items():
        for upstream_id in upstream:
            tasks[upstream_id] >> tasks[task_id]
