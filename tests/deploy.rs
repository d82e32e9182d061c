//! The Kubernetes manifests of `deploy/k8s/` (issue 19): each validates against the Kubernetes
//! API schemas (`kubernetes-validate --strict`, installed from PyPI into a venv under `target/`
//! by this test; a missing python3-venv or PyPI skips with the reason printed, or fails under
//! `RTBENCH_REQUIRE_REAL_CLIENTS=1` as in CI), a manifest with a misspelled field does not, the
//! pieces agree with each other (the Indexed Job's size and the coordinator's `--remote-shards`,
//! Service names and ports and the addresses in the command lines), and every command line (the
//! server's, the coordinator's and a shard's) parses with the real binary's flags.

mod real_clients;

use real_clients::unavailable;
use real_clients::venv::python_venv;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The manifests (`deploy/k8s/`), each a resource file the kustomization lists.
const MANIFESTS: [&str; 3] = ["server.yaml", "coordinator.yaml", "shards.yaml"];

fn k8s(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/k8s")
        .join(file)
}

/// The venv's python, with `kubernetes-validate` (and PyYAML, its dependency); `None` (skipped,
/// reason printed) without python3-venv or PyPI.
fn python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = PYTHON.get_or_init(|| {
        python_venv(
            "deploy-venv",
            &["kubernetes-validate>=1.30,<2"],
            "kubernetes_validate, yaml",
        )
    });
    match made {
        Ok(python) => Some(python.clone()),
        Err(why) => {
            unavailable(&format!("the Kubernetes schema validator: {why}"));
            None
        }
    }
}

/// `kubernetes-validate --strict` on `files`.
fn validate(python: &Path, files: &[PathBuf]) -> Output {
    Command::new(python.with_file_name("kubernetes-validate"))
        .args(["--strict", "--quiet"])
        .args(files)
        .output()
        .expect("kubernetes-validate starts")
}

/// Every YAML document of `file`, as JSON.
fn documents(python: &Path, file: &Path) -> Vec<Value> {
    let script =
        "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let out = Command::new(python)
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("python starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// The document of `kind` named `name` in `docs`.
fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// The command of the first container of a workload's pod template.
fn command(workload: &Value) -> Vec<String> {
    let c = &workload["spec"]["template"]["spec"]["containers"][0]["command"];
    serde_json::from_value(c.clone()).expect("a command of strings")
}

/// The value after `flag` in `command`.
fn flag<'a>(command: &'a [String], flag: &str) -> &'a str {
    let at = command.iter().position(|a| a == flag);
    let value = at.and_then(|i| command.get(i + 1));
    value.unwrap_or_else(|| panic!("{flag} in {command:?}"))
}

/// The service ports of a Service, by name.
fn port(service: &Value, name: &str) -> u64 {
    let ports = service["spec"]["ports"].as_array().expect("ports");
    let p = ports.iter().find(|p| p["name"] == name);
    p.and_then(|p| p["port"].as_u64())
        .unwrap_or_else(|| panic!("port {name} of {service}"))
}

#[test]
fn every_manifest_validates_against_the_kubernetes_schemas_and_a_broken_one_does_not() {
    let Some(python) = python() else { return };
    let files: Vec<PathBuf> = MANIFESTS.iter().map(|f| k8s(f)).collect();
    let out = validate(&python, &files);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The validator bites: a misspelled field of the Indexed Job is refused.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("shards.yaml");
    let text = std::fs::read_to_string(k8s("shards.yaml")).unwrap();
    assert!(text.contains("completionMode: Indexed"));
    std::fs::write(&broken, text.replace("completionMode:", "completionMod:")).unwrap();
    let out = validate(&python, &[broken]);
    assert!(!out.status.success(), "a misspelled field passed");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("completionMod"), "{said}");
    // The kustomization applies exactly these manifests.
    let kustomization = &documents(&python, &k8s("kustomization.yaml"))[0];
    assert_eq!(kustomization["resources"], serde_json::json!(MANIFESTS));
}

#[test]
fn the_manifests_agree_with_each_other_and_every_command_parses() {
    let Some(python) = python() else { return };
    let server = documents(&python, &k8s("server.yaml"));
    let coordinator = documents(&python, &k8s("coordinator.yaml"));
    let shards = documents(&python, &k8s("shards.yaml"));

    let job = find(&shards, "Job", "rtbench-shards");
    let run = command(find(&coordinator, "Job", "rtbench-coordinator"));
    let n: u64 = flag(&run, "--remote-shards").parse().unwrap();
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], n, "one pod per remote shard");
    assert_eq!(job["spec"]["parallelism"], n, "every shard at once");

    let shard = command(job);
    assert_eq!(shard[..2], ["rtbench", "shard"]);
    assert_eq!(flag(&shard, "--index"), "$(JOB_COMPLETION_INDEX)");
    let env = &job["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(env[0]["name"], "JOB_COMPLETION_INDEX");
    let to_coordinator = format!(
        "rtbench-coordinator:{}",
        port(
            find(&coordinator, "Service", "rtbench-coordinator"),
            "shards"
        )
    );
    assert_eq!(flag(&shard, "--coordinator"), to_coordinator);
    // The coordinator listens, and starts the server under test, on its pod's address.
    assert_eq!(flag(&run, "--shard-listen"), "$(POD_IP):7700");
    let coordinator_env = &find(&coordinator, "Job", "rtbench-coordinator")["spec"]["template"]["spec"]
        ["containers"][0]["env"];
    assert_eq!(coordinator_env[0]["name"], "POD_IP");
    assert_eq!(
        coordinator_env[0]["valueFrom"]["fieldRef"]["fieldPath"],
        "status.podIP"
    );
    assert!(
        !run.iter().any(|a| a == "--target"),
        "--remote-shards measures the coordinator's own server: {run:?}"
    );

    let service = find(&server, "Service", "rtbench-server");
    assert_eq!(port(service, "http"), 8080);
    let serve = command(find(&server, "Deployment", "rtbench-server"));
    assert_eq!(flag(&serve, "--addr"), "0.0.0.0:8080");
    assert_eq!(flag(&serve, "--tcp-addr"), "0.0.0.0:8081");
    assert_eq!(port(service, "tcp"), 8081);

    // The server's command line parses with the binary's own flags: clap reads every argument
    // before it acts on the trailing --help, so a misspelled flag or a bad value fails.
    let parses = |args: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_rtbench"))
            .args(args)
            .arg("--help")
            .output()
            .expect("rtbench starts")
            .status
            .success()
    };
    // Kubernetes expands `$(VAR)` before the binary sees it: parse with values it could have.
    let expanded = |args: &[String]| -> Vec<String> {
        args.iter()
            .map(|a| {
                a.replace("$(POD_IP)", "10.244.0.7")
                    .replace("$(JOB_COMPLETION_INDEX)", "0")
            })
            .collect()
    };
    for line in [&serve, &run, &shard] {
        assert_eq!(line[0], "rtbench");
        assert!(parses(&expanded(&line[1..])), "{line:?} does not parse");
    }
    let mut misspelled = serve[1..].to_vec();
    misspelled[1] = "--listen".into();
    assert!(!parses(&misspelled), "the check bites: {misspelled:?}");
}
