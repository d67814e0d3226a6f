//! The load generator against the real server and bridge it starts: a short churn run through
//! each path must lose nothing. (Its figures are benchmarks, in BENCHMARKS.md; this only keeps
//! the tool honest and working.)

use tapedeck_tests::{binary, repo};

fn churn(via: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("summary.json");
    let music = repo().join("music");
    let status = std::process::Command::new(binary("tapedeck-load"))
        .args(["--via", via, "--scenario", "churn", "--listeners", "6"])
        .args(["--ramp", "1", "--seconds", "6", "--seed", "7"])
        .arg("--music")
        .arg(&music)
        .arg("--json")
        .arg(&json)
        .status()
        .expect("run tapedeck-load");
    assert!(status.success(), "tapedeck-load failed: {status}");
    serde_json::from_str(&std::fs::read_to_string(&json).expect("summary")).expect("JSON")
}

fn check(summary: &serde_json::Value, processes: &[&str]) {
    assert_eq!(summary["errors"], serde_json::json!({}), "{summary:#}");
    assert_eq!(summary["bytes_after_stop"], 0, "{summary:#}");
    assert!(summary["plays"].as_u64() >= Some(6), "{summary:#}");
    assert!(summary["stops"].as_u64() >= Some(1), "{summary:#}");
    assert!(summary["bytes_received"].as_u64() > Some(0), "{summary:#}");
    let names: Vec<&str> = summary["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, processes);
}

#[test]
fn churn_over_the_raw_protocol_loses_nothing() {
    check(&churn("server"), &["server"]);
}

#[test]
fn churn_through_the_bridge_loses_nothing() {
    check(&churn("bridge"), &["server", "bridge"]);
}
