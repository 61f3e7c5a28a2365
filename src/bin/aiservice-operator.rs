//! The AIService operator: runs AIServices and ModelServings as Deployments and Services and
//! scales them on requests per second. `crds` writes the CRDs it serves instead, `bundle`
//! prints what installs it and `chart` writes that as a Helm chart; `interceptor` runs the
//! request interceptor in front of AIServices.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use aiservice::api::bundle;
use aiservice::operator::controller::Settings;
use aiservice::operator::leader::Election;
use aiservice::operator::run::{Options, run, run_interceptor};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "aiservice-operator", version = aiservice::VERSION, about)]
/// Runs AIServices as Deployments and scales them on requests per second.
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// A kubeconfig file. Unset: $KUBECONFIG, ~/.kube/config, or the in-cluster service
    /// account.
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: Option<PathBuf>,

    /// The kubeconfig context. Unset: its current context.
    #[arg(long)]
    context: Option<String>,

    /// Watch only this namespace. Unset: every namespace.
    #[arg(long, env = "AISERVICE_NAMESPACE")]
    namespace: Option<String>,

    /// Where /metrics and /healthz are served.
    #[arg(long, default_value = "0.0.0.0:8080")]
    metrics_address: SocketAddr,

    /// How often an Auto-mode object's requests per second are read and its scale decided,
    /// such as 15s or 500ms.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    poll_interval: Duration,

    /// The serving image of objects that name none.
    #[arg(long, default_value = "ghcr.io/example/model-server:1")]
    default_image: String,

    /// The admin address of a request interceptor replica (`http://host:9090`), read every
    /// second for objects scaled on `metric.interceptor`; repeat it for each replica.
    #[arg(long = "interceptor-admin")]
    interceptors: Vec<String>,

    /// Act only while holding a Lease, so that of several replicas one acts.
    #[arg(long)]
    leader_elect: bool,

    /// The namespace of the Lease. Unset: the watched namespace, else aiservice-system.
    #[arg(long, env = "POD_NAMESPACE")]
    leader_elect_namespace: Option<String>,

    /// The name of the Lease.
    #[arg(long, default_value = aiservice::cluster::OPERATOR_LEASE)]
    leader_elect_lease: String,

    /// How long the Lease holds without renewal; a standby takes over after it.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    leader_elect_duration: Duration,

    /// Log filter, such as info or aiservice=debug.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    log: String,
}

#[derive(Subcommand)]
enum Command {
    /// Write the AIService and ModelServing CRDs as YAML, one file each.
    Crds {
        /// The directory to write them to.
        #[arg(long, default_value = aiservice::api::CRD_DIR)]
        out: PathBuf,
    },
    /// Print what installs the operator (CRDs, namespace, RBAC, Deployment) as YAML.
    Bundle(BundleArgs),
    /// Write the operator's Helm chart, unpacked: the bundle's objects as templates, its
    /// settings as values (package it with `helm package`).
    Chart {
        /// The directory to write it to; must be empty or absent.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the request interceptor: a proxy in front of AIServices that holds requests while
    /// a service has no ready pod and counts requests per service.
    Interceptor(InterceptorArgs),
}

#[derive(clap::Args)]
struct InterceptorArgs {
    /// Where requests are taken (HTTP/1.1 and HTTP/2 without TLS).
    #[arg(long, default_value = "0.0.0.0:8080")]
    listen: SocketAddr,
    /// Where /v1/counts, /metrics and /healthz are served.
    #[arg(long, default_value = "0.0.0.0:9090")]
    admin_address: SocketAddr,
    /// Requests held per service while it has no ready pod; one more is answered 503.
    #[arg(long, default_value_t = aiservice::interceptor::DEFAULT_QUEUE_SIZE)]
    queue_size: usize,
    /// How long a request is held before it is answered 503, such as 60s.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    queue_timeout: Duration,
}

/// The bundle's settings; each unset one keeps its default (the chart's values.yaml).
#[derive(clap::Args)]
struct BundleArgs {
    /// The operator's container image.
    #[arg(long)]
    image: Option<String>,
    /// How many operator pods run.
    #[arg(long)]
    replicas: Option<i32>,
    /// The namespace the operator runs in.
    #[arg(long)]
    namespace: Option<String>,
    /// The operator's log filter, such as info or aiservice=debug.
    #[arg(long)]
    log_level: Option<String>,
}

impl BundleArgs {
    fn settings(&self) -> bundle::BundleSettings {
        let default = bundle::BundleSettings::default();
        bundle::BundleSettings {
            image: self.image.clone().unwrap_or(default.image),
            replicas: self.replicas.unwrap_or(default.replicas),
            namespace: self.namespace.clone().unwrap_or(default.namespace),
            log_level: self.log_level.clone().unwrap_or(default.log_level),
        }
    }
}

/// `15s`, `500ms`, `2m`: a number and a unit.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} needs a unit: ms, s or m"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a number"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number * 60)),
        _ => Err(format!("{text:?}: the unit must be ms, s or m")),
    }
}

fn main() {
    let args = Args::parse();
    match &args.command {
        Some(Command::Crds { out }) => {
            match aiservice::api::write_crds(out) {
                Ok(files) => files.iter().for_each(|f| println!("{}", f.display())),
                Err(e) => {
                    eprintln!(
                        "aiservice-operator: writing the CRDs to {}: {e}",
                        out.display()
                    );
                    std::process::exit(1);
                }
            }
            return;
        }
        Some(Command::Bundle(bundle_args)) => {
            print!("{}", bundle::yaml(&bundle_args.settings()));
            return;
        }
        Some(Command::Chart { out }) => {
            match aiservice::api::chart::write(out) {
                Ok(files) => files.iter().for_each(|f| println!("{}", f.display())),
                Err(e) => {
                    eprintln!(
                        "aiservice-operator: writing the chart to {}: {e}",
                        out.display()
                    );
                    std::process::exit(1);
                }
            }
            return;
        }
        Some(Command::Interceptor(_)) | None => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log))
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Some(Command::Interceptor(interceptor)) = args.command {
        let settings = aiservice::interceptor::Settings {
            listen: interceptor.listen,
            admin: interceptor.admin_address,
            queue: aiservice::interceptor::proxy::Queue {
                size: interceptor.queue_size,
                timeout: interceptor.queue_timeout,
            },
            namespace: args.namespace,
        };
        let ran = runtime.block_on(run_interceptor(args.kubeconfig, args.context, settings));
        if let Err(e) = ran {
            eprintln!("aiservice-operator interceptor: {e}");
            std::process::exit(1);
        }
        return;
    }
    let election = args.leader_elect.then(|| Election {
        namespace: args
            .leader_elect_namespace
            .clone()
            .or_else(|| args.namespace.clone())
            .unwrap_or_else(|| "aiservice-system".into()),
        name: args.leader_elect_lease.clone(),
        identity: std::env::var("POD_NAME").unwrap_or_else(|_| {
            let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
            format!("{}-{}", host.trim(), std::process::id())
        }),
        duration: args.leader_elect_duration,
    });
    let options = Options {
        kubeconfig: args.kubeconfig,
        context: args.context,
        metrics_address: args.metrics_address,
        settings: Settings {
            namespace: args.namespace,
            poll_interval: args.poll_interval,
            default_image: args.default_image,
            interceptors: args.interceptors,
        },
        election,
    };
    if let Err(e) = runtime.block_on(run(options)) {
        eprintln!("aiservice-operator: {e}");
        std::process::exit(1);
    }
}
