-- Play time is never negative, a device never plays longer than the live was on air, and
-- a user's play time is at least that of each of the user's devices.
select *
from {{ ref('wv_live_play') }}
where u_sum_play_time < 0
   or d_sum_play_time < 0
   or d_sum_play_time > extract(epoch from tmp_end_dt - start_dt)
   or u_sum_play_time < d_sum_play_time
