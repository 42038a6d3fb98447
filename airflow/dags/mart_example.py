"""Airflow DAG `mart_example`: the mart project `mart_example`, one task per model, seed and snapshot.

Written by `mart airflow`; regenerate it instead of editing it:

    mart airflow --out airflow/dags

Every task runs one mart command for one node with --vars '{date_id: <date>}', <date>
being the logical date's calendar day in Asia/Seoul (YYYY-MM-DD). Dependencies are the
mart DAG; ephemeral models are inlined into their users and have no task.

To run one task by hand for a date, exactly as Airflow runs it:

    airflow tasks test mart_example fact_user_event_run 2024-08-20

or, without Airflow, the same mart command (from the project folder):

    mart run --select fact_user_event --vars '{date_id: 2024-08-20}'
"""

import os
import shlex
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

MART = "mart"
PROJECT_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
# The flags every task passes: where the project is, the target, the date.
MART_FLAGS = " ".join([
    "--project-dir", shlex.quote(PROJECT_DIR),
    "--vars '{date_id: {{ logical_date.in_timezone(\"Asia/Seoul\").strftime(\"%Y-%m-%d\") }}}'",
])

# task id: (mart command, upstream task ids)
TASKS = {
    "user_event_seed": ("seed --select user_event", []),
    "user_event_test": ("test --select accepted_values_user_event_clicked__False__0__1 accepted_values_user_event_purchased__False__0__1 not_null_user_event_clicked not_null_user_event_item_id not_null_user_event_paidamount not_null_user_event_purchased not_null_user_event_user_id", ["user_event_seed"]),
    "fact_user_event_run": ("run --select fact_user_event", ["user_event_test"]),
    "fact_user_event_test": ("test --select accepted_values_fact_user_event_clicked__False__0__1 accepted_values_fact_user_event_purchased__False__0__1 assert_one_event_per_user_day_item assert_paid_amount_only_for_purchases not_null_fact_user_event_clicked not_null_fact_user_event_datestamp not_null_fact_user_event_item_id not_null_fact_user_event_paidamount not_null_fact_user_event_purchased not_null_fact_user_event_user_id", ["fact_user_event_run"]),
    "user_metadata_seed": ("seed --select user_metadata", []),
    "user_metadata_test": ("test --select accepted_values_user_metadata_age__18_24__25_34__35_44__45_54__55_64__65_ accepted_values_user_metadata_gender__female__male__other not_null_user_metadata_age not_null_user_metadata_gender not_null_user_metadata_updated_at not_null_user_metadata_user_id unique_user_metadata_user_id", ["user_metadata_seed"]),
    "dim_user_metadata_run": ("run --select dim_user_metadata", ["user_metadata_test"]),
    "dim_user_metadata_test": ("test --select accepted_values_dim_user_metadata_age__18_24__25_34__35_44__45_54__55_64__65_ accepted_values_dim_user_metadata_gender__female__male__other not_null_dim_user_metadata_age not_null_dim_user_metadata_gender not_null_dim_user_metadata_updated_at not_null_dim_user_metadata_user_id unique_dim_user_metadata_user_id", ["dim_user_metadata_run"]),
    "user_variant_seed": ("seed --select user_variant", []),
    "user_variant_test": ("test --select accepted_values_user_variant_variant_id__control__test not_null_user_variant_user_id not_null_user_variant_variant_id relationships_user_event_user_id__user_id__ref_user_variant_ relationships_user_metadata_user_id__user_id__ref_user_variant_ unique_user_variant_user_id", ["user_event_test", "user_metadata_test", "user_variant_seed"]),
    "dim_user_variant_run": ("run --select dim_user_variant", ["user_variant_test"]),
    "dim_user_variant_test": ("test --select accepted_values_dim_user_variant_variant_id__control__test not_null_dim_user_variant_user_id not_null_dim_user_variant_variant_id relationships_dim_user_metadata_user_id__user_id__ref_dim_user_variant_ unique_dim_user_variant_user_id", ["dim_user_metadata_test", "dim_user_variant_run"]),
    "dim_user_run": ("run --select dim_user", ["dim_user_metadata_test", "dim_user_variant_test"]),
    "dim_user_test": ("test --select accepted_values_dim_user_age__18_24__25_34__35_44__45_54__55_64__65_ accepted_values_dim_user_gender__female__male__other accepted_values_dim_user_variant_id__control__test not_null_dim_user_user_id not_null_dim_user_variant_id relationships_dim_user_user_id__user_id__ref_dim_user_variant_ relationships_fact_user_event_user_id__user_id__ref_dim_user_ unique_dim_user_user_id", ["dim_user_run", "dim_user_variant_test", "fact_user_event_test"]),
    "analytics_variant_user_daily_run": ("run --select analytics_variant_user_daily", ["dim_user_test", "fact_user_event_test"]),
    "analytics_variant_user_daily_test": ("test --select accepted_values_analytics_variant_user_daily_gender__female__male__other accepted_values_analytics_variant_user_daily_variant_id__control__test assert_daily_clicks_within_impressions not_null_analytics_variant_user_daily_datestamp not_null_analytics_variant_user_daily_num_of_clicks not_null_analytics_variant_user_daily_num_of_items not_null_analytics_variant_user_daily_num_of_purchases not_null_analytics_variant_user_daily_revenue not_null_analytics_variant_user_daily_user_id not_null_analytics_variant_user_daily_variant_id relationships_analytics_variant_user_daily_user_id__user_id__ref_dim_user_", ["analytics_variant_user_daily_run", "dim_user_test"]),
    "user_metadata_snapshot_snapshot": ("snapshot --select user_metadata_snapshot", ["user_metadata_test"]),
}

with DAG(
    dag_id="mart_example",
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
