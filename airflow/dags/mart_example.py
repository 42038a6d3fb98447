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
    "clinical_areas_test": ("test --select not_null_clinical_areas_clinical_area not_null_clinical_areas_clinical_area_id unique_clinical_areas_clinical_area unique_clinical_areas_clinical_area_id", ["clinical_areas_seed"]),
    "dim_clinical_area_run": ("run --select dim_clinical_area", ["clinical_areas_test"]),
    "dim_clinical_area_test": ("test --select not_null_dim_clinical_area_clinical_area not_null_dim_clinical_area_clinical_area_id unique_dim_clinical_area_clinical_area unique_dim_clinical_area_clinical_area_id", ["dim_clinical_area_run"]),
    "community_common_report_seed": ("seed --select community_common_report", []),
    "community_log_member_status_log_seed": ("seed --select community_log_member_status_log", []),
    "community_log_v_member_migration_seed": ("seed --select community_log_v_member_migration", []),
    "community_member_special_member_seed": ("seed --select community_member_special_member", []),
    "documents_seed": ("seed --select documents", []),
    "documents_test": ("test --select not_null_documents_document_id relationships_documents_clinical_area_id__clinical_area_id__ref_clinical_areas_ source_relationships_silver_click_log_document_id__document_id__ref_documents_ unique_documents_document_id", ["clinical_areas_test", "documents_seed"]),
    "dim_document_run": ("run --select dim_document", ["clinical_areas_test", "documents_test"]),
    "dim_document_test": ("test --select not_null_dim_document_document_id relationships_dim_document_clinical_area_id__clinical_area_id__ref_dim_clinical_area_ unique_dim_document_document_id", ["dim_clinical_area_test", "dim_document_run"]),
    "notification_push_config_seed": ("seed --select notification_push_config", []),
    "ods_wv_member_profile_seed": ("seed --select ods_wv_member_profile", []),
    "user_event_seed": ("seed --select user_event", []),
    "user_event_test": ("test --select accepted_values_user_event_clicked__False__0__1 accepted_values_user_event_purchased__False__0__1 not_null_user_event_clicked not_null_user_event_item_id not_null_user_event_paidamount not_null_user_event_purchased not_null_user_event_user_id", ["user_event_seed"]),
    "fact_user_event_run": ("run --select fact_user_event", ["user_event_test"]),
    "fact_user_event_test": ("test --select accepted_values_fact_user_event_clicked__False__0__1 accepted_values_fact_user_event_purchased__False__0__1 assert_one_event_per_user_day_item assert_paid_amount_only_for_purchases not_null_fact_user_event_clicked not_null_fact_user_event_datestamp not_null_fact_user_event_item_id not_null_fact_user_event_paidamount not_null_fact_user_event_purchased not_null_fact_user_event_user_id", ["fact_user_event_run"]),
    "user_metadata_seed": ("seed --select user_metadata", []),
    "user_metadata_test": ("test --select accepted_values_user_metadata_age__18_24__25_34__35_44__45_54__55_64__65_ accepted_values_user_metadata_gender__female__male__other not_null_user_metadata_age not_null_user_metadata_gender not_null_user_metadata_updated_at not_null_user_metadata_user_id unique_user_metadata_user_id", ["user_metadata_seed"]),
    "dim_user_metadata_run": ("run --select dim_user_metadata", ["user_metadata_test"]),
    "dim_user_metadata_test": ("test --select accepted_values_dim_user_metadata_age__18_24__25_34__35_44__45_54__55_64__65_ accepted_values_dim_user_metadata_gender__female__male__other not_null_dim_user_metadata_age not_null_dim_user_metadata_gender not_null_dim_user_metadata_updated_at not_null_dim_user_metadata_user_id unique_dim_user_metadata_user_id", ["dim_user_metadata_run"]),
    "user_user_seed": ("seed --select user_user", []),
    "user_variant_seed": ("seed --select user_variant", []),
    "user_variant_test": ("test --select accepted_values_user_variant_variant_id__control__test not_null_user_variant_user_id not_null_user_variant_variant_id relationships_user_event_user_id__user_id__ref_user_variant_ relationships_user_metadata_user_id__user_id__ref_user_variant_ unique_user_variant_user_id", ["user_event_test", "user_metadata_test", "user_variant_seed"]),
    "dim_user_variant_run": ("run --select dim_user_variant", ["user_variant_test"]),
    "dim_user_variant_test": ("test --select accepted_values_dim_user_variant_variant_id__control__test not_null_dim_user_variant_user_id not_null_dim_user_variant_variant_id relationships_dim_user_metadata_user_id__user_id__ref_dim_user_variant_ unique_dim_user_variant_user_id", ["dim_user_metadata_test", "dim_user_variant_run"]),
    "dim_user_run": ("run --select dim_user", ["dim_user_metadata_test", "dim_user_variant_test"]),
    "dim_user_test": ("test --select accepted_values_dim_user_age__18_24__25_34__35_44__45_54__55_64__65_ accepted_values_dim_user_gender__female__male__other accepted_values_dim_user_variant_id__control__test not_null_dim_user_user_id not_null_dim_user_variant_id relationships_dim_user_user_id__user_id__ref_dim_user_variant_ relationships_fact_user_event_user_id__user_id__ref_dim_user_ unique_dim_user_user_id", ["dim_user_run", "dim_user_variant_test", "fact_user_event_test"]),
    "analytics_variant_user_daily_run": ("run --select analytics_variant_user_daily", ["dim_user_test", "fact_user_event_test"]),
    "analytics_variant_user_daily_test": ("test --select accepted_values_analytics_variant_user_daily_gender__female__male__other accepted_values_analytics_variant_user_daily_variant_id__control__test assert_daily_clicks_within_impressions not_null_analytics_variant_user_daily_datestamp not_null_analytics_variant_user_daily_num_of_clicks not_null_analytics_variant_user_daily_num_of_items not_null_analytics_variant_user_daily_num_of_purchases not_null_analytics_variant_user_daily_revenue not_null_analytics_variant_user_daily_user_id not_null_analytics_variant_user_daily_variant_id relationships_analytics_variant_user_daily_user_id__user_id__ref_dim_user_", ["analytics_variant_user_daily_run", "dim_user_test"]),
    "we_artist_seed": ("seed --select we_artist", []),
    "we_user_seed": ("seed --select we_user", []),
    "ws_fc_user_history_seed": ("seed --select ws_fc_user_history", []),
    "wv1_join_info_seed": ("seed --select wv1_join_info", []),
    "wv_comm_user_update_seed": ("seed --select wv_comm_user_update", []),
    "wv_live_seed": ("seed --select wv_live", []),
    "wv_live_joint_history_seed": ("seed --select wv_live_joint_history", []),
    "wv_user_ctry_history_seed": ("seed --select wv_user_ctry_history", []),
    "user_metadata_snapshot_snapshot": ("snapshot --select user_metadata_snapshot", ["user_metadata_test"]),
    "user_metadata_snapshot_test": ("test --select not_null_user_metadata_snapshot_user_id", ["user_metadata_snapshot_snapshot"]),
    "wv_server_log_base_run": ("run --select wv_server_log_base", []),
    "wv_server_log_base_test": ("test --select accepted_values_wv_server_log_base_hour__00__01__02__03__04__05__06__07__08__09__10__11__12__13__14__15__16__17__18__19__20__21__22__23 accepted_values_wv_server_log_base_is_join__False__0__1 accepted_values_wv_server_log_base_is_leave__False__0__1 accepted_values_wv_server_log_base_method__GET__POST__PUT__DELETE accepted_values_wv_server_log_base_os__ANDROID__IOS__WINDOWS__MACOS__OTHER accepted_values_wv_server_log_base_platform__APP__MWEB__WEB accepted_values_wv_server_log_base_user_info_status__ACTIVE__ANONYMOUS accepted_values_wv_server_log_base_wpf__APP__PC__MWEB assert_every_log_row_in_exactly_one_date_id assert_live_leave_never_precedes_its_join assert_log_rows_inside_their_sessions assert_user_id_fill_keeps_logged_in_ids not_null_wv_server_log_base_date_id not_null_wv_server_log_base_hour not_null_wv_server_log_base_is_join not_null_wv_server_log_base_is_leave not_null_wv_server_log_base_log_dt not_null_wv_server_log_base_os not_null_wv_server_log_base_platform not_null_wv_server_log_base_run_timestamp not_null_wv_server_log_base_sess_end_dt not_null_wv_server_log_base_sess_id not_null_wv_server_log_base_sess_seq not_null_wv_server_log_base_sess_start_dt not_null_wv_server_log_base_url not_null_wv_server_log_base_user_info_device_id not_null_wv_server_log_base_user_sess_id", ["wv_server_log_base_run"]),
    "fact_click_event_run": ("run --select fact_click_event", []),
    "fact_click_event_test": ("test --select not_null_fact_click_event_document_id not_null_fact_click_event_event_date not_null_fact_click_event_event_hour not_null_fact_click_event_event_id not_null_fact_click_event_event_ts not_null_fact_click_event_search_id not_null_fact_click_event_session_id relationships_fact_click_event_clinical_area_id__clinical_area_id__ref_dim_clinical_area_ relationships_fact_click_event_document_id__document_id__ref_dim_document_ unique_fact_click_event_event_id", ["dim_clinical_area_test", "dim_document_test", "fact_click_event_run"]),
    "mart_clinical_areas_run": ("run --select mart_clinical_areas", ["dim_clinical_area_test", "fact_click_event_test"]),
    "mart_clinical_areas_test": ("test --select not_null_mart_clinical_areas_clinical_area not_null_mart_clinical_areas_event_date relationships_mart_clinical_areas_clinical_area__clinical_area__ref_dim_clinical_area_", ["dim_clinical_area_test", "mart_clinical_areas_run"]),
    "mart_daily_traffic_run": ("run --select mart_daily_traffic", ["fact_click_event_test"]),
    "mart_daily_traffic_test": ("test --select accepted_values_mart_daily_traffic_peak_hour__False__0__1__2__3__4__5__6__7__8__9__10__11__12__13__14__15__16__17__18__19__20__21__22__23 not_null_mart_daily_traffic_event_date not_null_mart_daily_traffic_peak_hour unique_mart_daily_traffic_event_date", ["mart_daily_traffic_run"]),
    "mart_popular_documents_run": ("run --select mart_popular_documents", ["dim_document_test", "fact_click_event_test"]),
    "mart_popular_documents_test": ("test --select not_null_mart_popular_documents_document_id not_null_mart_popular_documents_event_date relationships_mart_popular_documents_document_id__document_id__ref_dim_document_", ["dim_document_test", "mart_popular_documents_run"]),
    "mart_session_analysis_run": ("run --select mart_session_analysis", ["fact_click_event_test"]),
    "mart_session_analysis_test": ("test --select assert_gold_marts_add_up assert_gold_primary_keys not_null_mart_session_analysis_click_count not_null_mart_session_analysis_event_date not_null_mart_session_analysis_session_duration_sec not_null_mart_session_analysis_session_id", ["mart_clinical_areas_test", "mart_daily_traffic_test", "mart_popular_documents_test", "mart_session_analysis_run"]),
    "artist_server_log_run": ("run --select artist_server_log", ["wv_server_log_base_test"]),
    "artist_server_log_test": ("test --select not_null_artist_server_log_we_art_id", ["artist_server_log_run"]),
    "wv_server_log_daily_run": ("run --select wv_server_log_daily", ["wv_server_log_base_test"]),
    "wv_server_log_daily_test": ("test --select not_null_wv_server_log_daily_date_id not_null_wv_server_log_daily_we_art_id", ["wv_server_log_daily_run"]),
    "wv_comm_user_run": ("run --select wv_comm_user", []),
    "wv_comm_user_test": ("test --select accepted_values_wv_comm_user_comm_user_grade__USER__ARTIST__STAFF accepted_values_wv_comm_user_comm_user_status__NORMAL__LEAVE__WITHDRAW__BANNED accepted_values_wv_comm_user_is_fc__False__0__1 accepted_values_wv_comm_user_is_first_user_comm__False__0__1 accepted_values_wv_comm_user_is_v_user__False__0__1 accepted_values_wv_comm_user_wv_user_status__NORMAL__SUSPENDED__WITHDRAWN assert_wv_comm_user_memberships_add_up not_null_wv_comm_user_comm_id not_null_wv_comm_user_comm_user_cre_dt not_null_wv_comm_user_comm_user_first_dt not_null_wv_comm_user_comm_user_id not_null_wv_comm_user_comm_user_status not_null_wv_comm_user_key_date not_null_wv_comm_user_part_comm_id not_null_wv_comm_user_part_date not_null_wv_comm_user_tot_comm_user_first_dt not_null_wv_comm_user_we_art_id not_null_wv_comm_user_wv_user_id relationships_wv_comm_user_we_art_id__we_art_id__source_we_mart_we_artist_ unique_wv_comm_user_comm_user_id", ["wv_comm_user_run"]),
    "stats_wv_d_comm_user_cnt_run": ("run --select stats_wv_d_comm_user_cnt", ["wv_comm_user_test"]),
    "stats_wv_d_comm_user_cnt_test": ("test --select not_null_stats_wv_d_comm_user_cnt_key_date", ["stats_wv_d_comm_user_cnt_run"]),
    "stats_wv_t_comm_user_cohort_run": ("run --select stats_wv_t_comm_user_cohort", ["wv_comm_user_test"]),
    "stats_wv_t_comm_user_cohort_test": ("test --select not_null_stats_wv_t_comm_user_cohort_cohort", ["stats_wv_t_comm_user_cohort_run"]),
    "wv_live_play_run": ("run --select wv_live_play", ["wv_server_log_base_test"]),
    "wv_live_play_test": ("test --select accepted_values_wv_live_play_is_fc_only__False__0__1 accepted_values_wv_live_play_is_join__False__0__1 accepted_values_wv_live_play_is_joint_live__False__0__1 accepted_values_wv_live_play_is_late__False__0__1 accepted_values_wv_live_play_is_leave__False__0__1 accepted_values_wv_live_play_platform__APP__MWEB__WEB assert_live_play_time_never_negative assert_wv_live_play_fc_only_for_paid_memberships assert_wv_live_play_only_counted_lives assert_wv_live_play_rows_follow_the_requests assert_wv_live_play_unique_key not_null_wv_live_play_comm_id not_null_wv_live_play_d_sum_play_time not_null_wv_live_play_date_id not_null_wv_live_play_device_id not_null_wv_live_play_guest_joint_seq not_null_wv_live_play_hour not_null_wv_live_play_minute not_null_wv_live_play_part_date not_null_wv_live_play_post_id not_null_wv_live_play_run_timestamp not_null_wv_live_play_start_dt not_null_wv_live_play_tmp_end_dt not_null_wv_live_play_u_sum_play_time not_null_wv_live_play_we_art_id not_null_wv_live_play_wv_user_id relationships_wv_live_play_post_id__post_id__source_we_mart_wv_live_ relationships_wv_live_play_we_art_id__we_art_id__source_we_mart_we_artist_", ["wv_live_play_run", "wv_server_log_base_test"]),
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
