//! Connection settings.

use std::fmt;
use std::time::Duration;

/// Where and how to connect. `Debug` redacts the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Host name, IP address, or a directory holding PostgreSQL's Unix socket (starts with `/`).
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    /// Limit for the whole connection set-up (TCP connect, start-up and authentication).
    pub connect_timeout: Option<Duration>,
    pub application_name: String,
    /// libpq's sslmode. `None`, `disable`, `allow` and `prefer` connect without TLS;
    /// `require`, `verify-ca` and `verify-full` are refused until TLS is supported.
    pub sslmode: Option<String>,
}

impl ConnectionConfig {
    /// `host:port/dbname`, as named in error messages.
    pub fn target(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.dbname)
    }
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            host: "localhost".to_string(),
            port: 5432,
            user: "postgres".to_string(),
            password: None,
            dbname: "postgres".to_string(),
            connect_timeout: Some(Duration::from_secs(10)),
            application_name: "mart".to_string(),
            sslmode: None,
        }
    }
}

impl fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("dbname", &self.dbname)
            .field("connect_timeout", &self.connect_timeout)
            .field("application_name", &self.application_name)
            .field("sslmode", &self.sslmode)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_password() {
        let cfg = ConnectionConfig {
            password: Some("hunter2-secret".into()),
            ..ConnectionConfig::default()
        };
        let debug = format!("{cfg:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"));
        let none = format!("{:?}", ConnectionConfig::default());
        assert!(none.contains("password: None"));
        assert_eq!(cfg.target(), "localhost:5432/postgres");
    }
}
