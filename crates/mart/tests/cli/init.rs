//! `mart init`: a starter project that loads as it is.

use crate::harness::TestProject;

#[test]
fn init_writes_a_starter_project_that_loads() {
    let p = TestProject::with_files("init", &[]);
    let out = p.mart_expect(&["init", "starter"], 0);
    assert!(
        out.stdout.contains("Created project starter in"),
        "{}",
        out.stdout
    );
    let root = p.dir.join("starter");
    for file in [
        "dbt_project.yml",
        "profiles.yml",
        "models/example/my_first_model.sql",
        "models/example/my_second_model.sql",
        "models/example/schema.yml",
        "seeds/.gitkeep",
        ".gitignore",
    ] {
        assert!(root.join(file).is_file(), "{file} is missing");
    }
    let ls = std::process::Command::new(env!("CARGO_BIN_EXE_mart"))
        .args(["ls", "--project-dir"])
        .arg(&root)
        .args(["--profiles-dir"])
        .arg(&root)
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("mart_test_cache"),
        )
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ls.stdout)
            .lines()
            .collect::<Vec<_>>(),
        [
            "starter.example.my_first_model",
            "starter.example.my_second_model",
            "starter.example.not_null_my_first_model_id",
            "starter.example.not_null_my_second_model_id",
            "starter.example.unique_my_first_model_id",
            "starter.example.unique_my_second_model_id",
        ],
        "{}",
        String::from_utf8_lossy(&ls.stderr)
    );
    // Not over an existing folder, not with a name dbt refuses.
    let again = p.mart_expect(&["init", "starter"], 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let bad = p.mart_expect(&["init", "Bad-Name"], 2);
    assert!(
        bad.stderr
            .contains("'Bad-Name' is not a valid project name"),
        "{}",
        bad.stderr
    );
    p.mart_expect(&["init", "bare", "--skip-profile-setup"], 0);
    assert!(!p.dir.join("bare/profiles.yml").exists());
}
