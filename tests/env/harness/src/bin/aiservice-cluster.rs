//! `tests/env/cluster up|down|env|status`: the test control plane for use by hand and by
//! `make demo`. `up` starts it in the background (a detached `run` process that owns every
//! component) and returns once the apiserver is ready; `down` stops it and removes its
//! directory.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aiservice_testenv::{ControlPlane, Options, Tools};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    about = "A local Kubernetes control plane (etcd, kube-apiserver, optionally controller-manager, scheduler and kwok)"
)]
struct Cli {
    /// Where the control plane keeps its data, certificates, kubeconfig and audit log.
    #[arg(long, env = "AISERVICE_CLUSTER_DIR", default_value_os_t = default_dir())]
    dir: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start in the background and wait until ready; prints the environment to use it.
    Up {
        /// Also run kube-controller-manager, kube-scheduler and kwok with one fake node.
        #[arg(long)]
        workloads: bool,
    },
    /// Stop every process and remove the directory.
    Down,
    /// Print `export KUBECONFIG=...` and the tool PATH for a shell (`eval "$(tests/env/cluster env)"`).
    Env,
    /// Exit 0 when a control plane is running in the directory.
    Status,
    /// Run in the foreground until SIGTERM or SIGINT (what `up` starts in the background).
    #[command(hide = true)]
    Run {
        #[arg(long)]
        workloads: bool,
    },
}

fn default_dir() -> PathBuf {
    std::env::temp_dir().join("aiservice-cluster")
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Up { workloads } => up(&cli.dir, workloads),
        Cmd::Down => down(&cli.dir),
        Cmd::Env => print_env(&cli.dir),
        Cmd::Status => match running_pid(&cli.dir) {
            Some(pid) => {
                println!("running (pid {pid}) in {}", cli.dir.display());
                Ok(())
            }
            None => bail!("no control plane is running in {}", cli.dir.display()),
        },
        Cmd::Run { workloads } => run(&cli.dir, workloads),
    }
}

fn pid_file(dir: &Path) -> PathBuf {
    dir.join("cluster.pid")
}

fn ready_file(dir: &Path) -> PathBuf {
    dir.join("ready")
}

fn running_pid(dir: &Path) -> Option<libc::pid_t> {
    let pid: libc::pid_t = std::fs::read_to_string(pid_file(dir))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: signal 0 only checks that the process exists.
    (unsafe { libc::kill(pid, 0) } == 0 && ready_file(dir).exists()).then_some(pid)
}

fn up(dir: &Path, workloads: bool) -> Result<()> {
    if running_pid(dir).is_some() {
        eprintln!("a control plane is already running in {}", dir.display());
        return print_env(dir);
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    // Outside the directory, which a failed start removes.
    let log = dir.with_extension("log");
    let mut command = Command::new(std::env::current_exe()?);
    command.arg("--dir").arg(dir).arg("run");
    if workloads {
        command.arg("--workloads");
    }
    let out = std::fs::File::create(&log)?;
    // SAFETY: setsid is async-signal-safe; it detaches the runner from our terminal so it
    // outlives this command.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .context("starting the control plane runner")?;
    while !ready_file(dir).exists() {
        if let Some(status) = child.try_wait()? {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            bail!("the control plane failed to start ({status}):\n{text}");
        }
        if started.elapsed() > Duration::from_secs(180) {
            bail!(
                "the control plane was not ready after 180s; see {}",
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "control plane ready in {:.1}s ({})",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    print_env(dir)
}

fn run(dir: &Path, workloads: bool) -> Result<()> {
    let mut plane = ControlPlane::start(
        dir,
        Options {
            workloads,
            die_with_parent: true,
        },
    )?;
    std::fs::write(pid_file(dir), std::process::id().to_string())?;
    std::fs::write(ready_file(dir), "")?;
    wait_for_termination()?;
    plane.stop();
    Ok(())
}

/// Blocks until SIGTERM or SIGINT arrives.
fn wait_for_termination() -> Result<()> {
    // SAFETY: plain sigset manipulation; blocking the signals first makes sigwait race-free.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let mut signal = 0;
        if libc::sigwait(&set, &mut signal) != 0 {
            bail!("sigwait failed");
        }
    }
    Ok(())
}

fn down(dir: &Path) -> Result<()> {
    let Ok(pid) = std::fs::read_to_string(pid_file(dir)).map(|p| p.trim().parse::<libc::pid_t>())
    else {
        let _ = std::fs::remove_dir_all(dir);
        eprintln!("no control plane was running in {}", dir.display());
        return Ok(());
    };
    let pid = pid.context("cluster.pid holds no pid")?;
    // SAFETY: signalling a pid we started; signal 0 checks existence.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(60);
    while unsafe { libc::kill(pid, 0) } == 0 {
        if Instant::now() > deadline {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_file(dir.with_extension("log"));
    eprintln!("control plane stopped");
    Ok(())
}

fn print_env(dir: &Path) -> Result<()> {
    if running_pid(dir).is_none() {
        bail!(
            "no control plane is running in {}; start one with tests/env/cluster up",
            dir.display()
        );
    }
    let path = Tools::get()?.path_with(&[]);
    println!("export KUBECONFIG='{}'", dir.join("kubeconfig").display());
    println!(
        "export AISERVICE_AUDIT_LOG='{}'",
        dir.join("audit.log").display()
    );
    println!("export PATH='{}'", path.to_string_lossy());
    Ok(())
}
