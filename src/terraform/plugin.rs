//! HashiCorp go-plugin's side of starting a provider: the magic cookie that tells a plugin it
//! was started by a Terraform-style CLI, protocol version negotiation, the handshake line on
//! stdout and automatic mutual TLS against the certificate the CLI passes in
//! `PLUGIN_CLIENT_CERT`.

use std::sync::Arc;

use base64::Engine;
use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};

/// The cookie Terraform and OpenTofu set for their providers.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The only plugin protocol version this provider speaks.
pub const PROTOCOL_VERSION: u32 = 6;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error(
        "terraform-provider-aiservice is a Terraform provider plugin: Terraform or OpenTofu starts it. \
         To use it, point a CLI configuration's dev_overrides (or a provider mirror) at its directory \
         and run terraform plan; see sdk-examples/terraform/README.md"
    )]
    NotStartedByCli,
    #[error(
        "the CLI offers plugin protocol versions {0:?}, this provider speaks only version 6 (Terraform 1.0 or later, any OpenTofu)"
    )]
    NoCommonVersion(String),
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate: {0}")]
    ClientCert(String),
    #[error("cannot make the server's TLS certificate: {0}")]
    ServerCert(String),
}

/// Checks the environment the CLI sets before starting a plugin.
pub fn check_environment(env: impl Fn(&str) -> Option<String>) -> Result<(), PluginError> {
    if env(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(PluginError::NotStartedByCli);
    }
    match env("PLUGIN_PROTOCOL_VERSIONS") {
        Some(offered)
            if !offered
                .split(',')
                .any(|v| v.trim().parse() == Ok(PROTOCOL_VERSION)) =>
        {
            Err(PluginError::NoCommonVersion(offered))
        }
        _ => Ok(()),
    }
}

/// The line the CLI reads from stdout: core protocol 1, app protocol 6, where to connect,
/// gRPC, and the server's certificate (base64 DER without padding) when TLS is on.
pub fn handshake_line(port: u16, server_cert: Option<&[u8]>) -> String {
    let cert = server_cert
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("1|{PROTOCOL_VERSION}|tcp|127.0.0.1:{port}|grpc|{cert}")
}

/// A fresh server identity for this run and the TLS configuration that accepts exactly the
/// CLI's certificate. Returns the certificate (DER) for the handshake line.
pub fn tls_config(client_cert_pem: &str) -> Result<(rustls::ServerConfig, Vec<u8>), PluginError> {
    let client_cert = rustls::pki_types::pem::PemObject::from_pem_slice(client_cert_pem.as_bytes())
        .map_err(|e: rustls::pki_types::pem::Error| PluginError::ClientCert(e.to_string()))?;
    // go-plugin's client verifies the server name "localhost" against this certificate.
    let key = rcgen::KeyPair::generate().map_err(|e| PluginError::ServerCert(e.to_string()))?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .map_err(|e| PluginError::ServerCert(e.to_string()))?;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params
        .self_signed(&key)
        .map_err(|e| PluginError::ServerCert(e.to_string()))?;
    let der = cert.der().to_vec();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| PluginError::ServerCert(e.to_string()))?
        .with_client_cert_verifier(Arc::new(PinnedClientCert {
            expected: client_cert,
            provider,
        }))
        .with_single_cert(
            vec![CertificateDer::from(der.clone())],
            PrivateKeyDer::try_from(key.serialize_der())
                .map_err(|e| PluginError::ServerCert(e.to_string()))?,
        )
        .map_err(|e| PluginError::ServerCert(e.to_string()))?;
    // gRPC clients insist on HTTP/2 being negotiated.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok((config, der))
}

/// Accepts the one certificate the CLI generated for this run. go-plugin's certificate is
/// self-signed and marked as a CA, which chain validation rightly refuses as a client's own
/// certificate; comparing it byte for byte is both simpler and stricter.
#[derive(Debug)]
struct PinnedClientCert {
    expected: CertificateDer<'static>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the client's certificate is not the one in PLUGIN_CLIENT_CERT".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |key| {
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn run_by_hand_says_what_starts_it() {
        let err = check_environment(env(&[])).unwrap_err();
        assert!(
            err.to_string().contains("Terraform or OpenTofu starts it"),
            "{err}"
        );
    }

    #[test]
    fn version_six_must_be_offered() {
        let cookie = (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE);
        assert!(check_environment(env(&[cookie, ("PLUGIN_PROTOCOL_VERSIONS", "5,6")])).is_ok());
        assert!(check_environment(env(&[cookie])).is_ok());
        let err = check_environment(env(&[cookie, ("PLUGIN_PROTOCOL_VERSIONS", "4,5")]));
        assert!(matches!(err, Err(PluginError::NoCommonVersion(v)) if v == "4,5"));
    }

    #[test]
    fn handshake_line_carries_the_certificate_unpadded() {
        assert_eq!(handshake_line(4242, None), "1|6|tcp|127.0.0.1:4242|grpc|");
        assert_eq!(
            handshake_line(1, Some(&[1, 2, 3, 4])),
            "1|6|tcp|127.0.0.1:1|grpc|AQIDBA"
        );
    }
}
