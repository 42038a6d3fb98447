#!/usr/bin/env python3
"""Writes the fan-platform demo seeds (seeds/weverse/**.csv) deterministically.

The small upstream tables of the wv_* marts: artists, users, lives, joint lives, FC
memberships and community memberships with their profiles, logs and settings. The big raw
server log is not here: the project macro generate_server_log builds it inside PostgreSQL.
Run from the repo root: python3 scripts/seeds/weverse_seeds.py
"""
import csv
import hashlib
import os
from datetime import datetime, timedelta

OUT = "seeds/weverse"
USERS = 3000
ARTISTS = [
    (1, "LUMINA"), (2, "NOVA SEVEN"), (3, "HALO"), (4, "ARIA BLUE"),
    (5, "MOONRISE"), (6, "STELLAR"), (7, "ECHO TEEN"), (8, "VIVID"),
]
COUNTRIES = ["KR"] * 8 + ["JP"] * 4 + ["US"] * 3 + ["ID", "TH", "PH", "BR", "MX"]
BASE = datetime(2024, 8, 17, 15, 0, 0)  # 2024-08-18 00:00 KST, in UTC


def h(*parts):
    """A stable pseudo-random integer for the given key."""
    return int(hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def ts(d):
    return d.strftime("%Y-%m-%d %H:%M:%S") if d else ""


def write(path, header, rows):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def comm_id(art):
    return 100 + art


def live_artist(i):
    return 1 + (i - 1) % 8


def live_start(i):
    """Live i (1..48) starts every ~2 hours from 2024-08-17 12:00 KST."""
    return BASE - timedelta(hours=12) + timedelta(minutes=(i - 1) * 125 + h("live", i) % 40)


def main():
    # we_mart.we_artist
    write("we_mart/we_artist.csv", ["we_art_id", "we_art_name", "comm_id", "debut_date"],
          [(a, n, comm_id(a), f"20{15 + a}-0{1 + a % 9}-1{a % 10}") for a, n in ARTISTS])

    # weverse2.user_user and we_mart.we_user
    users, we_users = [], []
    for u in range(1, USERS + 1):
        r = h("user", u)
        if u % 20 == 0:  # joined Weverse while watching live (u // 20) % 48 + 1
            created = live_start(1 + (u // 20) % 48) + timedelta(minutes=1 + r % 20)
        else:
            created = datetime(2021, 1, 1) + timedelta(seconds=r % (1300 * 86400))
        status = "WITHDRAWN" if r % 97 == 0 else ("SUSPENDED" if r % 89 == 0 else "NORMAL")
        users.append((u, 500000 + u, f"user{u:05d}@example.com", status,
                      COUNTRIES[r % len(COUNTRIES)], ts(created)))
        we_users.append((u, 500000 + u, status, ts(created)))
    write("weverse2/user_user.csv",
          ["id", "we_member_id", "email", "status", "country", "created_at"], users)
    write("we_mart/we_user.csv",
          ["wv_user_id", "we_member_id", "wv_user_status", "wv_join_dt"], we_users)

    # we_mart.wv_user_ctry_history: the country seen last per user (some moved)
    ctry = []
    for u in range(1, USERS + 1):
        r = h("ctry", u)
        first = COUNTRIES[h("user", u) % len(COUNTRIES)]
        ctry.append((u, first, "2021-01-01", "2024-07-31" if r % 10 == 0 else ""))
        if r % 10 == 0:
            ctry.append((u, COUNTRIES[r % len(COUNTRIES)], "2024-08-01", ""))
    write("we_mart/wv_user_ctry_history.csv",
          ["wv_user_id", "ip_ctry", "start_date", "end_date"], ctry)

    # we_mart.wv_live: lives over 2024-08-17..2024-08-22 KST
    lives = []
    for i in range(1, 49):
        art = live_artist(i)
        r = h("live", i)
        start = live_start(i)
        dur = timedelta(minutes=30 + r % 90)
        status = "ENDED"
        if i % 11 == 0:
            status = "CANCELED"
        end = start + dur
        if i == 47:  # still on air when the log ends: no end_dt yet
            status, end = "ON_AIR", None
        lives.append((f"0-{146093000 + i}", f"{3000000 + i}", art, comm_id(art), f"LIVE #{i} with {ARTISTS[art - 1][1]}",
                      status, 1 if i % 13 == 0 else 0, 1 if i % 5 == 0 else 0, ts(start), ts(end)))
    write("we_mart/wv_live.csv",
          ["post_id", "video_id", "we_art_id", "comm_id", "title", "status", "is_from_vlive",
           "is_fc_only", "start_dt", "end_dt"], lives)

    # we_mart.wv_live_joint_history: guests of joint lives, in joining order
    joint = []
    for i in range(3, 49, 6):
        host = 1 + (i - 1) % 8
        start = datetime.strptime(lives[i - 1][8], "%Y-%m-%d %H:%M:%S")
        for seq in range(1, 2 + i % 2 + 1):
            guest = 1 + (host + seq * 2) % 8
            joint.append((f"0-{146093000 + i}", host, guest, comm_id(guest), seq,
                          ts(start + timedelta(minutes=seq * 3))))
    write("we_mart/wv_live_joint_history.csv",
          ["post_id", "host_we_art_id", "guest_we_art_id", "guest_comm_id", "guest_joint_seq",
           "joined_dt"], joint)

    # Community memberships: each user is in 1-3 communities; some left and re-joined.
    profiles, status_log, special, reports, push, wv1, vmig, update = [], [], [], [], [], [], [], []
    fc = []
    member_no = 0
    for u in range(1, USERS + 1):
        r = h("comm", u)
        n_comm = 1 + r % 3
        joined = set()
        for k in range(n_comm):
            art = 1 + (r // 7 + k * 3) % 8
            if u % 20 == 0 and k == 0:  # new users first join the community of their live
                art = live_artist(1 + (u // 20) % 48)
            if art in joined:
                continue
            joined.add(art)
            c = comm_id(art)
            rr = h("member", u, c)
            if u % 20 == 0 and k == 0:
                first = datetime.strptime(users[u - 1][5], "%Y-%m-%d %H:%M:%S") + timedelta(minutes=2 + rr % 14)
            elif rr % 25 == 0:  # joined during the demo days
                first = BASE + timedelta(seconds=rr % (4 * 86400))
            else:
                first = datetime(2021, 6, 1) + timedelta(seconds=rr % (1100 * 86400))
            spells = [(first, None)]
            if rr % 9 == 0:  # left, then came back later as a new member
                left = first + timedelta(days=20 + rr % 200)
                back = left + timedelta(days=3 + rr % 60)
                spells = [(first, left), (back, None)]
            if rr % 31 == 0:  # left for good
                spells[-1] = (spells[-1][0], spells[-1][0] + timedelta(days=1 + rr % 30))
            for seq, (cre, end) in enumerate(spells, 1):
                member_no += 1
                cu = f"m{c}-{u}-{seq}"
                grade = "USER"
                official = 0
                if u <= 8 * 3 and k == 0 and seq == 1:  # a few artist and staff accounts
                    grade, official = ("ARTIST", 1) if u % 3 else ("STAFF", 1)
                has_profile = 0 if rr % 17 == 0 else 1
                profiles.append((cu, u, c, f"fan_{u}_{c}" if has_profile else "", has_profile,
                                 1 if rr % 6 == 0 else 0,
                                 f"https://img.example.com/p/{cu}.jpg" if rr % 3 else "",
                                 f"https://img.example.com/b/{cu}.jpg" if rr % 5 == 0 else "",
                                 grade, official, ts(cre)))
                status_log.append((cu, c, u, "JOIN", ts(cre)))
                if end:
                    status_log.append((cu, c, u, "LEAVE" if rr % 2 else "WITHDRAW", ts(end)))
                elif rr % 53 == 0:
                    status_log.append((cu, c, u, "BANNED", ts(cre + timedelta(days=2))))
                if official:
                    special.append((cu, c, f"indi-{art}-{u}", grade, f"{ARTISTS[art - 1][1]} member {u}"))
                if rr % 19 == 0:
                    for n in range(1 + rr % 3):
                        reports.append((f"rep-{cu}-{n}", cu, c, "SPAM" if n % 2 else "ABUSE",
                                        ts(cre + timedelta(days=n + 1))))
                update.append((u, c, art, cu, ts(spells[0][0]), ts(cre), ts(end),
                               "NORMAL" if end is None else "LEAVE"))
            flags = [(h("push", u, c, f) % 4 != 0) * 1 for f in range(11)]
            push.append((u, c, *flags))
            if first < datetime(2022, 7, 1):  # members from Weverse 1 keep their v1 settings
                v1 = [(h("wv1", u, c, f) % 3 != 0) * 1 for f in range(12)]
                wv1.append((u, c, ts(first), "ALL" if rr % 4 else "CUSTOM", *v1))
            if rr % 14 == 0:
                vmig.append((u, c, ts(first - timedelta(days=400 + rr % 300))))
            # FC (paid membership) history for some members
            if rr % 3 == 0:
                fstart = datetime(2023, 1, 1) + timedelta(days=rr % 560)
                fend = fstart + timedelta(days=365)
                status = "PAYMENT_FAILED" if rr % 29 == 0 else "PAYMENT_COMPLETED"
                fc.append((900000 + len(fc) + 1, 500000 + u, art, ts(fstart), ts(fend), status,
                           1 if rr % 37 == 0 else 0))
    write("we_mart/ods_wv_member_profile.csv",
          ["comm_user_id", "wv_user_id", "comm_id", "profile_name", "is_profile_created",
           "is_profile_private", "profile_img_url", "profile_background_img_url",
           "comm_user_grade", "is_official", "created_at"], profiles)
    write("weverse2/community_log_member_status_log.csv",
          ["comm_user_id", "comm_id", "wv_user_id", "status", "logged_at"], status_log)
    write("weverse2/community_member_special_member.csv",
          ["comm_user_id", "comm_id", "art_indi_id", "art_indi_type", "art_indi_name"], special)
    write("weverse2/community_common_report.csv",
          ["report_id", "comm_user_id", "comm_id", "reason", "reported_at"], reports)
    write("weverse2/notification_push_config.csv",
          ["wv_user_id", "comm_id", "artist_cheering_me_push_enabled",
           "artist_comment_push_enabled", "artist_live_on_air_push_enabled",
           "artist_live_reservation_push_enabled", "artist_moment_push_enabled",
           "artist_post_push_enabled", "comment_push_enabled",
           "community_anniversary_push_enabled", "community_media_push_enabled",
           "community_notice_push_enabled", "following_push_enabled"], push)
    write("we_mart/wv1_join_info.csv",
          ["wv_user_id", "comm_id", "wv1_join_dt", "notification_type", "like_on_comment_alarm",
           "hot_post_alarm", "new_fc_alarm", "new_media_alarm", "new_community_notice_alarm",
           "artist_to_fans_post_alarm", "artist_post_alarm", "artist_like_on_my_post_alarm",
           "artist_comment_on_my_post_alarm", "like_on_my_post_alarm",
           "comment_on_my_post_alarm", "after_receiving_artist_comment_alarm"], wv1)
    write("weverse2/community_log_v_member_migration.csv",
          ["wv_user_id", "comm_id", "v_ch_join_dt"], vmig)
    write("we_mart/ws_fc_user_history.csv",
          ["fc_id", "we_member_id", "we_art_id", "start_dt", "end_dt", "ord_status",
           "is_cx_by_restore"], fc)
    write("we_mart/wv_comm_user_update.csv",
          ["wv_user_id", "comm_id", "we_art_id", "comm_user_id", "comm_user_first_dt",
           "comm_user_cre_dt", "comm_user_end_dt", "comm_user_status"], update)

    # Gold layer (TripClick-style medical search): documents and clinical areas
    areas = ["Cardiology", "Oncology", "Neurology", "Pediatrics", "Psychiatry", "Dermatology",
             "Endocrinology", "Infectious Disease", "Orthopedics", "Respiratory"]
    write("../gold/clinical_areas.csv", ["clinical_area_id", "clinical_area"],
          [(i + 1, a) for i, a in enumerate(areas)])
    topics = ["guideline", "systematic review", "trial", "cohort study", "case report"]
    docs = []
    for d in range(1, 301):
        r = h("doc", d)
        docs.append((d, f"{areas[r % 10]} {topics[r // 10 % 5]} #{d}", 1 + r % 10,
                     2005 + r % 19))
    write("../gold/documents.csv", ["document_id", "title", "clinical_area_id", "published_year"], docs)


if __name__ == "__main__":
    main()
