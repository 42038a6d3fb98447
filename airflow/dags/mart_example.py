"""Airflow DAG `mart_example`: the mart project `mart_example`, one task per model, seed and snapshot.

Written by `mart airflow`; regenerate it instead of editing it:

    mart airflow --out airflow/dags

Every task runs one mart command for one node with --vars '{date_id: <date>}', <date>
being the logical date's calendar day in Asia/Seoul (YYYY-MM-DD). Dependencies are the
mart DAG; ephemeral models are inlined into their users and have no task.

To run one task by hand for a date, exactly as Airflow runs it:

    airflow tasks test mart_example dim_clinical_area_run 2024-08-20

or, without Airflow, the same mart command (from the project folder):

    mart run --select dim_clinical_area --vars '{date_id: 2024-08-20}'
"""

import os
import shlex
from datetime import timedelta

import pendulum
try:  # Airflow 3: the task SDK and the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
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
    "clinical_areas_seed": ("seed --select clinical_areas", []),
    "clinical_areas_test": ("test --select clinical_areas --indirect-selection buildable", ["clinical_areas_seed"]),
    "dim_clinical_area_run": ("run --select dim_clinical_area", ["clinical_areas_test"]),
    "dim_clinical_area_test": ("test --select dim_clinical_area --indirect-selection buildable", ["dim_clinical_area_run"]),
    "community_common_report_seed": ("seed --select community_common_report", []),
    "community_log_member_status_log_seed": ("seed --select community_log_member_status_log", []),
    "community_log_member_status_log_test": ("test --select source_accepted_values_weverse2_community_log_member_status_log_status__JOIN__LEAVE__WITHDRAW__BANNED", ["community_log_member_status_log_seed"]),
    "community_log_v_member_migration_seed": ("seed --select community_log_v_member_migration", []),
    "community_member_special_member_seed": ("seed --select community_member_special_member", []),
    "documents_seed": ("seed --select documents", []),
    "documents_test": ("test --select documents --indirect-selection eager", ["clinical_areas_test", "documents_seed"]),
    "dim_document_run": ("run --select dim_document", ["clinical_areas_test", "documents_test"]),
    "dim_document_test": ("test --select not_null_dim_document_document_id relationships_dim_document_clinical_area_id__clinical_area_id__ref_dim_clinical_area_ unique_dim_document_document_id", ["dim_clinical_area_test", "dim_document_run"]),
    "notification_push_config_seed": ("seed --select notification_push_config", []),
    "ods_wv_member_profile_seed": ("seed --select ods_wv_member_profile", []),
    "ods_wv_member_profile_test": ("test --select source_not_null_we_mart_ods_wv_member_profile_comm_user_id source_unique_we_mart_ods_wv_member_profile_comm_user_id", ["ods_wv_member_profile_seed"]),
    "user_event_seed": ("seed --select user_event", []),
    "user_event_test": ("test --select user_event --indirect-selection buildable", ["user_event_seed"]),
    "fact_user_event_run": ("run --select fact_user_event", ["user_event_test"]),
    "fact_user_event_test": ("test --select fact_user_event --indirect-selection buildable", ["fact_user_event_run"]),
    "user_metadata_seed": ("seed --select user_metadata", []),
    "user_metadata_test": ("test --select user_metadata --indirect-selection buildable", ["user_metadata_seed"]),
    "dim_user_metadata_run": ("run --select dim_user_metadata", ["user_metadata_test"]),
    "dim_user_metadata_test": ("test --select dim_user_metadata --indirect-selection buildable", ["dim_user_metadata_run"]),
    "user_user_seed": ("seed --select user_user", []),
    "user_user_test": ("test --select source_not_null_weverse2_user_user_id source_not_null_weverse2_user_user_we_member_id source_unique_weverse2_user_user_id source_unique_weverse2_user_user_we_member_id", ["user_user_seed"]),
    "user_variant_seed": ("seed --select user_variant", []),
    "user_variant_test": ("test --select user_variant --indirect-selection eager", ["user_event_test", "user_metadata_test", "user_variant_seed"]),
    "dim_user_variant_run": ("run --select dim_user_variant", ["user_variant_test"]),
    "dim_user_variant_test": ("test --select accepted_values_dim_user_variant_variant_id__control__test not_null_dim_user_variant_user_id not_null_dim_user_variant_variant_id relationships_dim_user_metadata_user_id__user_id__ref_dim_user_variant_ unique_dim_user_variant_user_id", ["dim_user_metadata_test", "dim_user_variant_run"]),
    "dim_user_run": ("run --select dim_user", ["dim_user_metadata_test", "dim_user_variant_test"]),
    "dim_user_test": ("test --select accepted_values_dim_user_age__18_24__25_34__35_44__45_54__55_64__65_ accepted_values_dim_user_gender__female__male__other accepted_values_dim_user_variant_id__control__test not_null_dim_user_user_id not_null_dim_user_variant_id relationships_dim_user_user_id__user_id__ref_dim_user_variant_ relationships_fact_user_event_user_id__user_id__ref_dim_user_ unique_dim_user_user_id", ["dim_user_run", "dim_user_variant_test", "fact_user_event_test"]),
    "analytics_variant_user_daily_run": ("run --select analytics_variant_user_daily", ["dim_user_test", "fact_user_event_test"]),
    "analytics_variant_user_daily_test": ("test --select analytics_variant_user_daily --indirect-selection eager", ["analytics_variant_user_daily_run", "dim_user_test"]),
    "we_artist_seed": ("seed --select we_artist", []),
    "we_artist_test": ("test --select source_not_null_we_mart_we_artist_comm_id source_not_null_we_mart_we_artist_we_art_id source_unique_we_mart_we_artist_comm_id source_unique_we_mart_we_artist_we_art_id", ["we_artist_seed"]),
    "we_user_seed": ("seed --select we_user", []),
    "we_user_test": ("test --select source_not_null_we_mart_we_user_wv_user_id source_unique_we_mart_we_user_wv_user_id", ["we_user_seed"]),
    "ws_fc_user_history_seed": ("seed --select ws_fc_user_history", []),
    "ws_fc_user_history_test": ("test --select source_accepted_values_we_mart_ws_fc_user_history_ord_status__PAYMENT_COMPLETED__PAYMENT_FAILED source_not_null_we_mart_ws_fc_user_history_fc_id source_unique_we_mart_ws_fc_user_history_fc_id", ["ws_fc_user_history_seed"]),
    "wv1_join_info_seed": ("seed --select wv1_join_info", []),
    "wv_comm_user_update_seed": ("seed --select wv_comm_user_update", []),
    "wv_comm_user_update_test": ("test --select source_not_null_we_mart_wv_comm_user_update_comm_user_id source_unique_we_mart_wv_comm_user_update_comm_user_id", ["wv_comm_user_update_seed"]),
    "wv_live_seed": ("seed --select wv_live", []),
    "wv_live_test": ("test --select source_accepted_values_we_mart_wv_live_status__ENDED__ON_AIR__CANCELED source_not_null_we_mart_wv_live_post_id source_unique_we_mart_wv_live_post_id", ["wv_live_seed"]),
    "wv_live_joint_history_seed": ("seed --select wv_live_joint_history", []),
    "wv_user_ctry_history_seed": ("seed --select wv_user_ctry_history", []),
    "user_metadata_snapshot_snapshot": ("snapshot --select user_metadata_snapshot", ["user_metadata_test"]),
    "user_metadata_snapshot_test": ("test --select not_null_user_metadata_snapshot_user_id", ["user_metadata_snapshot_snapshot"]),
    "wv_server_log_base_run": ("run --select wv_server_log_base", []),
    "wv_server_log_base_test": ("test --select wv_server_log_base --indirect-selection buildable", ["wv_server_log_base_run"]),
    "fact_click_event_run": ("run --select fact_click_event", []),
    "fact_click_event_test": ("test --select fact_click_event --indirect-selection eager", ["dim_clinical_area_test", "dim_document_test", "fact_click_event_run"]),
    "mart_clinical_areas_run": ("run --select mart_clinical_areas", ["dim_clinical_area_test", "fact_click_event_test"]),
    "mart_clinical_areas_test": ("test --select not_null_mart_clinical_areas_clinical_area not_null_mart_clinical_areas_event_date relationships_mart_clinical_areas_clinical_area__clinical_area__ref_dim_clinical_area_", ["dim_clinical_area_test", "mart_clinical_areas_run"]),
    "mart_daily_traffic_run": ("run --select mart_daily_traffic", ["fact_click_event_test"]),
    "mart_daily_traffic_test": ("test --select mart_daily_traffic --indirect-selection buildable", ["mart_daily_traffic_run"]),
    "mart_popular_documents_run": ("run --select mart_popular_documents", ["dim_document_test", "fact_click_event_test"]),
    "mart_popular_documents_test": ("test --select not_null_mart_popular_documents_document_id not_null_mart_popular_documents_event_date relationships_mart_popular_documents_document_id__document_id__ref_dim_document_", ["dim_document_test", "mart_popular_documents_run"]),
    "mart_session_analysis_run": ("run --select mart_session_analysis", ["fact_click_event_test"]),
    "mart_session_analysis_test": ("test --select mart_session_analysis --indirect-selection eager", ["mart_clinical_areas_test", "mart_daily_traffic_test", "mart_popular_documents_test", "mart_session_analysis_run"]),
    "artist_server_log_run": ("run --select artist_server_log", ["we_artist_test", "wv_server_log_base_test"]),
    "artist_server_log_test": ("test --select not_null_artist_server_log_we_art_id", ["artist_server_log_run"]),
    "wv_server_log_daily_run": ("run --select wv_server_log_daily", ["we_artist_test", "wv_server_log_base_test"]),
    "wv_server_log_daily_test": ("test --select not_null_wv_server_log_daily_date_id not_null_wv_server_log_daily_we_art_id", ["wv_server_log_daily_run"]),
    "wv_comm_user_run": ("run --select wv_comm_user", ["community_common_report_seed", "community_log_member_status_log_test", "community_log_v_member_migration_seed", "community_member_special_member_seed", "notification_push_config_seed", "ods_wv_member_profile_test", "we_artist_test", "we_user_test", "ws_fc_user_history_test", "wv1_join_info_seed", "wv_user_ctry_history_seed"]),
    "wv_comm_user_test": ("test --select wv_comm_user --indirect-selection eager", ["we_artist_test", "wv_comm_user_run"]),
    "stats_wv_d_comm_user_cnt_run": ("run --select stats_wv_d_comm_user_cnt", ["wv_comm_user_test"]),
    "stats_wv_d_comm_user_cnt_test": ("test --select not_null_stats_wv_d_comm_user_cnt_key_date", ["stats_wv_d_comm_user_cnt_run"]),
    "stats_wv_t_comm_user_cohort_run": ("run --select stats_wv_t_comm_user_cohort", ["wv_comm_user_test"]),
    "stats_wv_t_comm_user_cohort_test": ("test --select not_null_stats_wv_t_comm_user_cohort_cohort", ["stats_wv_t_comm_user_cohort_run"]),
    "wv_live_play_run": ("run --select wv_live_play", ["user_user_test", "ws_fc_user_history_test", "wv_comm_user_update_test", "wv_live_joint_history_seed", "wv_live_test", "wv_server_log_base_test"]),
    "wv_live_play_test": ("test --select wv_live_play --indirect-selection eager", ["user_user_test", "we_artist_test", "ws_fc_user_history_test", "wv_live_joint_history_seed", "wv_live_play_run", "wv_live_test", "wv_server_log_base_test"]),
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
