//! manifest.json after commands on the same saved parse: updated for the nodes that ran,
//! the other entries left byte for byte, and written whole when the parse changed; the
//! saved parses of several `--vars`, each reused.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::value::RawValue;
use serde_json::Value;

use crate::harness::TestProject;

const MODELS: [(&str, &str); 4] = [
    ("models/a.sql", "select 1 as v\n"),
    ("models/b.sql", "select v from {{ ref('a') }}\n"),
    ("models/c.sql", "select v + 1 as v from {{ ref('a') }}\n"),
    ("models/d.sql", "select {{ var('day', 0) }} as day\n"),
];

/// Each node's entry in target/manifest.json, as written.
fn entries(p: &TestProject) -> BTreeMap<String, String> {
    #[derive(serde::Deserialize)]
    struct Nodes {
        nodes: BTreeMap<String, Box<RawValue>>,
    }
    let text = std::fs::read_to_string(p.dir.join("target/manifest.json")).unwrap();
    let nodes: Nodes = serde_json::from_str(&text).unwrap();
    nodes
        .nodes
        .into_iter()
        .map(|(id, raw)| (id, raw.get().to_string()))
        .collect()
}

/// target/manifest.json without its metadata.
fn manifest_without_metadata(p: &TestProject) -> Value {
    let text = std::fs::read_to_string(p.dir.join("target/manifest.json")).unwrap();
    let mut manifest: Value = serde_json::from_str(&text).unwrap();
    manifest.as_object_mut().unwrap().remove("metadata");
    manifest
}

fn node(p: &TestProject, id: &str) -> Value {
    serde_json::from_str(&entries(p)[id]).unwrap()
}

fn compiled_code(p: &TestProject, id: &str) -> Value {
    node(p, id)["compiled_code"].clone()
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn one_node_runs_update_their_entries_and_leave_the_others_as_written() {
    let p = TestProject::with_files("manifest_updates", &MODELS);
    p.mart_expect(&["run", "-s", "a"], 0);
    let semantic = p.dir.join("target/semantic_manifest.json");
    let semantic_written = modified(&semantic);
    let before = entries(&p);
    assert_eq!(node(&p, "model.fx.b")["compiled"], false);

    p.mart_expect(&["run", "-s", "b"], 0);
    let after = entries(&p);
    let changed: Vec<&String> = before
        .keys()
        .filter(|id| before[*id] != after[*id])
        .collect();
    assert_eq!(changed, ["model.fx.b"]);
    let relation = |name: &str| format!("\"postgres\".\"{}\".\"{name}\"", p.schema);
    assert_eq!(
        compiled_code(&p, "model.fx.b"),
        format!("select v from {}", relation("a"))
    );
    assert_eq!(node(&p, "model.fx.b")["compiled"], true);
    // a ran in the command before and keeps its compiled code.
    assert_eq!(compiled_code(&p, "model.fx.a"), "select 1 as v");
    assert_eq!(modified(&semantic), semantic_written);

    // The same as one full write for both nodes, metadata aside.
    let updated = manifest_without_metadata(&p);
    p.mart_expect(&["run", "-s", "a", "b", "--no-partial-parse"], 0);
    assert_eq!(manifest_without_metadata(&p), updated);
}

/// The file's inode: the same after a write in place, a new one after a rename.
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path).unwrap().ino()
}

#[test]
fn a_rerun_of_the_same_nodes_rewrites_the_metadata_in_place() {
    let p = TestProject::with_files("manifest_in_place", &MODELS);
    let manifest = p.dir.join("target/manifest.json");
    p.mart_expect(&["run", "-s", "a", "b"], 0);
    p.mart_expect(&["run", "-s", "b"], 0);
    let (before, inode_before) = (
        std::fs::read_to_string(&manifest).unwrap(),
        inode(&manifest),
    );
    let invocation = |text: &str| {
        let v: Value = serde_json::from_str(text).unwrap();
        v["metadata"]["invocation_id"].clone()
    };
    // b's entry is the bytes already there: only the metadata's values change, over the
    // old ones, in the same file.
    p.mart_expect(&["run", "-s", "b"], 0);
    let after = std::fs::read_to_string(&manifest).unwrap();
    assert_eq!(inode(&manifest), inode_before);
    assert_eq!(after.len(), before.len());
    assert_ne!(invocation(&after), invocation(&before));
    assert_eq!(manifest_without_metadata(&p), {
        let mut v: Value = serde_json::from_str(&before).unwrap();
        v.as_object_mut().unwrap().remove("metadata");
        v
    });
    // A node whose entry changes (c, compiled for the first time) is spliced into a copy.
    p.mart_expect(&["run", "-s", "c"], 0);
    assert_ne!(inode(&manifest), inode_before);
    assert_eq!(node(&p, "model.fx.c")["compiled"], true);
    // And the in-place file is what a full write gives, metadata aside.
    p.mart_expect(&["run", "-s", "b"], 0);
    let updated = manifest_without_metadata(&p);
    p.mart_expect(&["run", "-s", "a", "b", "c", "--no-partial-parse"], 0);
    assert_eq!(manifest_without_metadata(&p), updated);
}

#[test]
fn a_changed_parse_writes_the_manifest_whole() {
    let p = TestProject::with_files("manifest_reparse", &MODELS);
    p.write("seeds/s.csv", "x\n1\n");
    p.mart_expect(&["run", "-s", "a"], 0);
    // A seed's checksum is of its file, which the parse does not hold: editing it is a
    // change too (a bug the first version of the update had).
    let checksum = || node(&p, "seed.fx.s")["checksum"]["checksum"].clone();
    let first = checksum();
    p.write("seeds/s.csv", "x\n2\n");
    p.mart_expect(&["run", "-s", "a"], 0);
    assert_ne!(checksum(), first);
    p.mart_expect(&["run", "-s", "b"], 0);
    p.write("models/c.sql", "select v + 2 as v from {{ ref('a') }}\n");
    p.mart_expect(&["run", "-s", "c"], 0);
    // The new parse's manifest holds this command's node only, as a full write does.
    assert_eq!(compiled_code(&p, "model.fx.a"), Value::Null);
    assert_eq!(compiled_code(&p, "model.fx.b"), Value::Null);
    assert_eq!(node(&p, "model.fx.b")["compiled"], false);
    assert_eq!(
        node(&p, "model.fx.c")["raw_code"],
        "select v + 2 as v from {{ ref('a') }}\n"
    );
    assert_eq!(node(&p, "model.fx.c")["compiled"], true);
    // A manifest.json another tool wrote is replaced, never spliced.
    let manifest = p.dir.join("target/manifest.json");
    let full = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{full}\n")).unwrap();
    p.mart_expect(&["run", "-s", "b"], 0);
    assert_eq!(compiled_code(&p, "model.fx.c"), Value::Null);
    assert_eq!(node(&p, "model.fx.b")["compiled"], true);
}

#[test]
fn concurrent_one_node_runs_all_land_in_the_manifest() {
    let p = TestProject::with_files("manifest_concurrent", &MODELS);
    p.mart_expect(&["run"], 0);
    let ids = ["model.fx.a", "model.fx.b", "model.fx.c", "model.fx.d"];
    // Compiles finish closer together than runs: their writes race more.
    for command in ["run", "compile"] {
        race(&p, command, &ids);
    }
}

/// Three rounds of `command -s <model>` for each of `ids` at once.
fn race(p: &TestProject, command: &str, ids: &[&str]) {
    for round in 0..3 {
        // Written whole with nothing compiled and no index: the first task to finish
        // writes it whole, the others update what it wrote.
        p.mart_expect(&["parse", "--no-partial-parse"], 0);
        for id in ids {
            assert_eq!(node(p, id)["compiled"], false, "round {round}: {id}");
        }
        let children: Vec<_> = ids
            .iter()
            .map(|id| p.spawn(&[command, "-s", id.trim_start_matches("model.fx.")]))
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {out:?}");
        }
        for id in ids {
            assert_eq!(
                node(p, id)["compiled"],
                true,
                "{command} round {round}: {id}"
            );
        }
        if command == "run" {
            let results: Value = serde_json::from_str(
                &std::fs::read_to_string(p.dir.join("target/run_results.json")).unwrap(),
            )
            .unwrap();
            assert_eq!(results["results"].as_array().unwrap().len(), 1);
        }
    }
}

/// The saved parses, by file name, with their modification times.
fn saved_parses(p: &TestProject) -> BTreeMap<PathBuf, std::time::SystemTime> {
    let Ok(dir) = std::fs::read_dir(p.dir.join("target/partial_parse")) else {
        return BTreeMap::new();
    };
    dir.map(|e| {
        let path = e.unwrap().path();
        let time = modified(&path);
        (path, time)
    })
    .collect()
}

#[test]
fn the_saved_parses_of_several_vars_are_each_reused() {
    let p = TestProject::with_files("manifest_vars", &MODELS);
    p.mart_expect(&["run", "-s", "a"], 0);
    let compile_d = |day: &str| {
        let vars = format!("{{day: {day}}}");
        p.mart_expect(&["run", "-s", "d", "--vars", &vars], 0);
        compiled_code(&p, "model.fx.d")
    };
    assert_eq!(compile_d("1"), "select 1 as day");
    assert_eq!(compile_d("2"), "select 2 as day");
    let saved = saved_parses(&p);
    assert_eq!(saved.len(), 3);
    // Neither is parsed again, and each task's node lands in the one manifest.json: the
    // vars are not read by the parse, so the parses are alike.
    assert_eq!(compile_d("1"), "select 1 as day");
    p.mart_expect(&["run", "-s", "b", "--vars", "{day: 2}"], 0);
    assert_eq!(saved_parses(&p), saved);
    assert_eq!(node(&p, "model.fx.a")["compiled"], true);
    assert_eq!(node(&p, "model.fx.b")["compiled"], true);
}

#[test]
fn at_most_eight_saved_parses_are_kept_the_least_recently_used_go() {
    let p = TestProject::with_files("manifest_evict", &MODELS[..1]);
    // The saved parse each command made (none when it reused one).
    let ls = |day: usize| -> Vec<PathBuf> {
        let before: BTreeSet<PathBuf> = saved_parses(&p).into_keys().collect();
        p.mart_expect(&["ls", "--vars", &format!("{{day: {day}}}")], 0);
        let after: BTreeSet<PathBuf> = saved_parses(&p).into_keys().collect();
        after.difference(&before).cloned().collect()
    };
    let created: Vec<PathBuf> = (0..8).flat_map(ls).collect();
    assert_eq!(created.len(), 8);
    // Used again: the first is now more recent than the second.
    assert_eq!(ls(0), Vec::<PathBuf>::new());
    assert_eq!(ls(8).len(), 1);
    let kept: BTreeSet<PathBuf> = saved_parses(&p).into_keys().collect();
    assert_eq!(kept.len(), 8);
    assert!(!kept.contains(&created[1]));
    assert!(kept.contains(&created[0]));
}
