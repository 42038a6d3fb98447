//! Blocking HTTP GETs for the hub index and tarballs (ureq with rustls); connection
//! failures and server errors are tried again a few times, as dbt does.

use std::time::Duration;

/// Tarballs of dbt packages are small; this only guards against a runaway download.
const MAX_BODY_BYTES: u64 = 512 * 1024 * 1024;
const ATTEMPTS: u32 = 3;

pub(crate) struct Http {
    agent: ureq::Agent,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HttpError {
    /// The server answered 404.
    NotFound,
    /// Any other failure, as a sentence.
    Failed(String),
}

impl Http {
    pub(crate) fn new() -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(120)))
            .http_status_as_error(false)
            .user_agent(concat!("mart/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self { agent }
    }

    pub(crate) fn get(&self, url: &str) -> Result<Vec<u8>, HttpError> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
            }
            match self.agent.get(url).call() {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    if status == 404 {
                        return Err(HttpError::NotFound);
                    }
                    if (200..300).contains(&status) {
                        return response
                            .body_mut()
                            .with_config()
                            .limit(MAX_BODY_BYTES)
                            .read_to_vec()
                            .map_err(|e| HttpError::Failed(format!("GET {url}: {e}")));
                    }
                    last = format!("GET {url} answered HTTP {status}");
                    if status < 500 {
                        break;
                    }
                }
                Err(e) => last = format!("GET {url} failed: {e}"),
            }
        }
        Err(HttpError::Failed(last))
    }
}
