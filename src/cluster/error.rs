use std::time::Duration;

/// Failures talking to the apiserver. Each names the object and says what went wrong in the
/// user's terms.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("kubeconfig: {0}")]
    Config(String),
    /// The provider was configured not to contact a cluster (render mode).
    #[error("{0}")]
    NoCluster(String),
    /// Render mode could not write or read a manifest file.
    #[error("{what}: {reason}")]
    Render { what: String, reason: String },
    #[error("{what}: cannot reach the cluster: {reason}")]
    Unreachable { what: String, reason: String },
    #[error(
        "{what}: the cluster rejected the credentials ({code}): {message}; check the kubeconfig's user and that its certificate or token has not expired"
    )]
    Unauthorized {
        what: String,
        code: u16,
        message: String,
    },
    #[error(
        "{what}: server-side apply conflict: {message}. Another field manager owns these fields; remove them from the program (or configuration), or set the annotation `aiservice.example.com/patch-force: \"true\"` on the object to take them over"
    )]
    Conflict { what: String, message: String },
    #[error("{what}: {message} ({reason}, HTTP {code})")]
    Api {
        what: String,
        code: u16,
        reason: String,
        message: String,
    },
    #[error("{what}: still waiting for {waiting_for} after {}s", timeout.as_secs())]
    Timeout {
        what: String,
        waiting_for: String,
        timeout: Duration,
    },
}

impl KubeError {
    pub fn from_kube(what: &str, error: kube::Error) -> Self {
        let what = what.to_string();
        match error {
            kube::Error::Api(status) => match status.code {
                401 | 403 if status.reason == "Unauthorized" || status.code == 401 => {
                    KubeError::Unauthorized {
                        what,
                        code: status.code,
                        message: status.message,
                    }
                }
                409 if status.reason == "Conflict" && status.message.contains("conflict") => {
                    KubeError::Conflict {
                        what,
                        message: status.message,
                    }
                }
                code => KubeError::Api {
                    what,
                    code,
                    reason: status.reason,
                    message: status.message,
                },
            },
            kube::Error::HyperError(e) => KubeError::Unreachable {
                what,
                reason: source_chain(&e),
            },
            kube::Error::Service(e) => KubeError::Unreachable {
                what,
                reason: source_chain(e.as_ref()),
            },
            other => KubeError::Unreachable {
                what,
                reason: source_chain(&other),
            },
        }
    }

    /// The same failure, said of `object`: a caller that knows which object it was working on
    /// names it instead of only the type being looked up.
    pub fn about(mut self, object: String) -> Self {
        match &mut self {
            KubeError::Config(_) | KubeError::NoCluster(_) => {}
            KubeError::Unreachable { what, .. }
            | KubeError::Unauthorized { what, .. }
            | KubeError::Conflict { what, .. }
            | KubeError::Api { what, .. }
            | KubeError::Render { what, .. }
            | KubeError::Timeout { what, .. } => *what = object,
        }
        self
    }

    /// Whether no cluster could be asked at all: none is configured, or it cannot be reached.
    pub fn is_no_cluster(&self) -> bool {
        matches!(self, KubeError::Config(_) | KubeError::Unreachable { .. })
    }

    /// Whether the apiserver answered that the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, KubeError::Api { code: 404, .. })
    }

    /// Whether the apiserver refused a write because the object's namespace does not exist.
    pub fn is_namespace_missing(&self) -> bool {
        matches!(self, KubeError::Api { code: 404, message, .. } if message.starts_with("namespaces \""))
    }
}

/// The error and its causes on one line, so "connection refused" is not hidden behind
/// "client error (Connect)".
fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = without_links(&error.to_string());
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = without_links(&cause.to_string());
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A cause without the links some libraries append to it (rustls, when an apiserver drops
/// the connection: "peer closed connection without sending TLS close_notify:
/// https://docs.rs/rustls/..."): the user needs the cause, not the library's manual.
fn without_links(text: &str) -> String {
    text.split(' ')
        .filter(|word| !word.starts_with("https://") && !word.starts_with("http://"))
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches([':', ' '])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a cause, as hyper reports a connection rustls lost.
    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (SendRequest)")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn causes_are_kept_and_library_links_dropped() {
        // rustls's text, as the provider showed it when the apiserver died mid-request.
        let lost = Outer(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "peer closed connection without sending TLS close_notify: https://docs.rs/rustls/latest/rustls/manual/_03_howto/index.html#unexpected-eof",
        ));
        assert_eq!(
            source_chain(&lost),
            "client error (SendRequest): peer closed connection without sending TLS close_notify"
        );
    }
}
