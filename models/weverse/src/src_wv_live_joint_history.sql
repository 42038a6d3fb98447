select
    post_id::text as post_id,
    guest_we_art_id::int as we_art_id,
    guest_comm_id::int as comm_id,
    guest_joint_seq::int as guest_joint_seq
from {{ source('we_mart', 'wv_live_joint_history') }}
