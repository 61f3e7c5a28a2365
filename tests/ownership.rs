//! A resource changes or deletes only what it created, driven by the real `pulumi` CLI:
//!
//! - a second stack declaring the same CRD and custom resource fails in preview and in `up`,
//!   naming who created the objects; the first stack keeps working, and destroying the second
//!   deletes nothing;
//! - renaming a resource while its `metadata.name` stays never deletes the object (the create
//!   of the new name fails and says to alias it); with the alias it is neither replaced nor
//!   deleted;
//! - an object that took the name of a managed one (deleted and created again by hand) is left
//!   alone by the destroy; the `aiservice.example.com/adopt` annotation takes it over on
//!   purpose; the CRD is deleted with foreground propagation on request;
//! - the apiserver killed during an `up` of a CRD and 60 custom resources: the rerun adopts
//!   what the interrupted `up` created (its own objects, recognised by their owner
//!   annotation), ends with exactly 60 objects, and refresh and preview are clean; the destroy
//!   on a control plane without kube-controller-manager (no garbage collector) does not hang.

mod common;

use std::time::{Duration, Instant};

use aiservice_testenv::{ControlPlane, Options, PulumiStack, TestEnv};
use common::{assert_gone, assert_pulumi_fails_saying, our_bins, repo, step_ops, steps};

fn uid(env: &TestEnv, object: &str) -> String {
    env.kubectl(&["get", object, "-o", "jsonpath={.metadata.uid}"])
        .unwrap()
}

#[tokio::test]
async fn a_second_stack_or_a_renamed_resource_never_takes_over_or_deletes_objects() {
    let env = TestEnv::new("own").await.unwrap();
    let group = format!("{}.example.com", env.namespace);
    let crd = format!("customresourcedefinition/widgets.{group}");
    let widget = format!("widgets.{group}/small");
    let stack = PulumiStack::new(&env, &repo("tests/programs/ownership"), our_bins()).unwrap();
    let configure = |stack_name: &str| {
        for (key, value) in [
            ("aiservice:namespace", env.namespace.as_str()),
            ("group", &group),
        ] {
            stack
                .run_ok(&["config", "set", "-s", stack_name, key, value])
                .unwrap();
        }
    };
    configure("test");
    stack.up().unwrap();
    let (crd_uid, widget_uid) = (uid(&env, &crd), uid(&env, &widget));

    // A second stack of the same program: preview and up fail, naming the first stack's
    // resources, and change nothing; its destroy deletes nothing.
    stack.run_ok(&["stack", "init", "second"]).unwrap();
    configure("second");
    let first_urn = "urn:pulumi:test::ownership::aiservice:apiextensions/v1:CustomResourceDefinition::widgets-crd";
    let expected = [
        format!(
            "CustomResourceDefinition widgets.{group} already exists and was not created by this resource (created by {first_urn}"
        ),
        "field managers: pulumi-aiservice (Apply)".to_string(),
        format!(
            "import it (`pulumi import` or `terraform import` with the id \"widgets.{group}\")"
        ),
        "aiservice.example.com/adopt: \"true\"".to_string(),
    ];
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_pulumi_fails_saying(&stack.run(&["preview"]).unwrap(), &expected);
    assert_pulumi_fails_saying(
        &stack.run(&["up", "--yes", "--skip-preview"]).unwrap(),
        &expected,
    );
    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    assert_eq!(
        (uid(&env, &crd), uid(&env, &widget)),
        (crd_uid.clone(), widget_uid.clone())
    );
    stack.run_ok(&["stack", "select", "test"]).unwrap();
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    // Renamed in the program, same metadata.name: the create of the new name fails (in
    // preview already) and the old one is not deleted.
    stack
        .edit("Pulumi.yaml", "  small:\n", "  renamed:\n")
        .unwrap();
    let rename_says = [
        "Widget",
        "already exists and was not created by this resource (created by urn:pulumi:test::ownership::aiservice:apiextensions:CustomResource::small",
        "give it an alias of its old name",
    ];
    assert_pulumi_fails_saying(&stack.run(&["preview"]).unwrap(), &rename_says);
    assert_pulumi_fails_saying(
        &stack.run(&["up", "--yes", "--skip-preview"]).unwrap(),
        &rename_says,
    );
    assert_eq!(uid(&env, &widget), widget_uid);

    // With the alias the engine knows it is the same resource: no create, no delete.
    stack
        .edit(
            "Pulumi.yaml",
            "    options:\n      dependsOn:\n        - ${widgets-crd}\n",
            "    options:\n      dependsOn:\n        - ${widgets-crd}\n      aliases:\n        - urn:pulumi:test::ownership::aiservice:apiextensions:CustomResource::small\n",
        )
        .unwrap();
    let preview = stack.run_ok(&["preview", "--json"]).unwrap();
    let planned = step_ops(&steps(&preview.stdout));
    assert!(
        planned.iter().all(|op| !op.starts_with("create")
            && !op.starts_with("delete")
            && !op.contains("replace")),
        "{planned:?}"
    );
    stack.up().unwrap();
    assert_eq!(uid(&env, &widget), widget_uid);
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    // Someone deletes the widget and makes another of the same name by hand: destroying the
    // widget's resource leaves that one alone (its uid is not the one this stack created).
    env.kubectl(&["delete", &widget]).unwrap();
    let by_hand = std::env::temp_dir().join(format!("{}-widget.json", env.namespace));
    std::fs::write(
        &by_hand,
        serde_json::json!({
            "apiVersion": format!("{group}/v1"), "kind": "Widget",
            "metadata": {"name": "small"}, "spec": {"size": 9},
        })
        .to_string(),
    )
    .unwrap();
    env.kubectl(&["create", "-f", by_hand.to_str().unwrap()])
        .unwrap();
    let _ = std::fs::remove_file(&by_hand);
    let by_hand_uid = uid(&env, &widget);
    let destroy_widget = stack
        .run_ok(&[
            "destroy",
            "--yes",
            "--skip-preview",
            "--target",
            "urn:pulumi:test::ownership::aiservice:apiextensions:CustomResource::renamed",
        ])
        .unwrap();
    assert!(
        destroy_widget
            .text()
            .contains("is another object than the one this resource created"),
        "{}",
        destroy_widget.text()
    );
    assert_eq!(uid(&env, &widget), by_hand_uid);

    // Taking an object over is an explicit opt-in: with the annotation, the create applies
    // onto the hand-made widget (same uid); the fields kubectl set are taken with patchForce,
    // so the program's values win; and it is this resource's from then on.
    stack
        .edit(
            "Pulumi.yaml",
            "      metadata:\n        name: small\n",
            "      metadata:\n        name: small\n        annotations:\n          aiservice.example.com/adopt: \"true\"\n          pulumi.com/patchForce: \"true\"\n",
        )
        .unwrap();
    let adopted = stack.up().unwrap();
    assert!(
        adopted.text().contains("already exists (no creator recorded; field managers: kubectl-create (Update)): taking it over"),
        "{}",
        adopted.text()
    );
    assert_eq!(uid(&env, &widget), by_hand_uid);
    assert_eq!(
        env.kubectl(&["get", &widget, "-o", "jsonpath={.spec.size}"])
            .unwrap(),
        "1"
    );
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    // The CRD asks for foreground propagation: the destroy waits for the garbage collector
    // and the apiserver's cleanup of its instances, and the CRD is gone.
    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    assert_gone(&env, &crd);
}

/// How many custom resources the crash test creates.
const WIDGETS: usize = 60;

/// The ownership program with `WIDGETS` custom resources instead of one, written into a fresh
/// directory (YAML programs have no loops).
fn many_widgets_program() -> std::path::PathBuf {
    let source = std::fs::read_to_string(repo("tests/programs/ownership/Pulumi.yaml")).unwrap();
    let (head, _) = source.split_once("  small:\n").unwrap();
    let mut program = head.to_string();
    for i in 0..WIDGETS {
        program.push_str(&format!(
            "  widget-{i}:\n    type: aiservice:apiextensions:CustomResource\n    properties:\n      apiVersion: ${{group}}/v1\n      kind: Widget\n      metadata:\n        name: widget-{i}\n      spec:\n        size: {i}\n    options:\n      dependsOn:\n        - ${{widgets-crd}}\n"
        ));
    }
    let dir = std::env::temp_dir().join(format!("aiservice-many-widgets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Pulumi.yaml"), program).unwrap();
    dir
}

#[test]
fn an_up_interrupted_by_an_apiserver_crash_converges_on_the_rerun() {
    let dir = std::env::temp_dir().join(format!("aiservice-test-{}-crash", std::process::id()));
    let mut plane = ControlPlane::start(
        &dir,
        Options {
            workloads: false,
            // Every process of this plane is started from this test's thread.
            die_with_parent: true,
        },
    )
    .unwrap();
    let program = many_widgets_program();
    let stack = PulumiStack::on_cluster(plane.kubeconfig(), &program, our_bins()).unwrap();
    let _ = std::fs::remove_dir_all(&program);
    for (key, value) in [
        ("aiservice:namespace", "default"),
        ("group", "crash.example.com"),
    ] {
        stack.run_ok(&["config", "set", key, value]).unwrap();
    }
    let count = |plane: &ControlPlane| {
        plane
            .kubectl(&[
                "get",
                "widgets.crash.example.com",
                "-n",
                "default",
                "-o",
                "name",
            ])
            .map(|names| names.lines().count())
            .unwrap_or(0)
    };

    // One create at a time, so the crash comes in the middle of the up.
    let interrupted = std::thread::scope(|scope| {
        let up = scope.spawn(|| {
            stack
                .run(&["up", "--yes", "--skip-preview", "--parallel", "1"])
                .unwrap()
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        while count(&plane) < 10 {
            assert!(Instant::now() < deadline, "the up created no widgets");
            std::thread::sleep(Duration::from_millis(50));
        }
        plane.crash_apiserver();
        up.join().unwrap()
    });
    assert!(
        !interrupted.success,
        "the up went on without an apiserver:\n{}",
        interrupted.text()
    );
    plane.restart_apiserver().unwrap();
    let before = count(&plane);
    assert!(
        (10..WIDGETS).contains(&before),
        "{before} widgets before the rerun"
    );

    // What a create whose answer was lost leaves: the object in the cluster, nothing in the
    // stack's state. The rerun must recognise it as its own.
    let exported: serde_json::Value =
        serde_json::from_str(&stack.run_ok(&["stack", "export"]).unwrap().stdout).unwrap();
    let recorded = exported["deployment"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["urn"].as_str())
        .find(|urn| urn.contains("CustomResource::widget-"))
        .expect("the interrupted up recorded some widgets")
        .to_string();
    stack
        .run_ok(&["state", "delete", "--yes", &recorded])
        .unwrap();
    stack.up().unwrap();
    assert_eq!(count(&plane), WIDGETS);
    stack
        .run_ok(&["refresh", "--yes", "--expect-no-changes"])
        .unwrap();
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    // No garbage collector runs here: the background deletes finish all the same.
    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    assert_eq!(count(&plane), 0);
    plane.stop();
}
