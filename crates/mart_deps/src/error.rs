//! Errors and warnings, each naming the file (and line) it is about.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a package entry (or key) is written: a file and, where known, its 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: Option<usize>,
}

impl Origin {
    pub fn new(file: impl Into<PathBuf>, line: Option<usize>) -> Self {
        Self {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// Something accepted but probably wrong, such as an unknown key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    /// A file or folder could not be read, written or removed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// packages.yml, dependencies.yml, a dbt_project.yml or package-lock.yml is not
    /// valid YAML or not of the expected shape.
    #[error("{origin}: {message}")]
    File {
        origin: Origin,
        message: String,
        help: String,
    },
    /// A package could not be resolved or installed.
    #[error("{origin}: package {package}: {message}")]
    Package {
        origin: Origin,
        package: String,
        message: String,
        help: String,
    },
}

impl DepsError {
    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn file(
        origin: Origin,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Self::File {
            origin,
            message: message.into(),
            help: help.into(),
        }
    }

    pub(crate) fn package(
        origin: &Origin,
        package: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Self::Package {
            origin: origin.clone(),
            package: package.into(),
            message: message.into(),
            help: help.into(),
        }
    }

    /// The file and line the error is about, where there is one.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Self::Io { .. } => None,
            Self::File { origin, .. } | Self::Package { origin, .. } => Some(origin),
        }
    }

    /// The error without its file and line (for renderers that show those apart).
    pub fn message(&self) -> String {
        match self {
            Self::Io { .. } => self.to_string(),
            Self::File { message, .. } => message.clone(),
            Self::Package {
                package, message, ..
            } => format!("package {package}: {message}"),
        }
    }

    /// What to do about it.
    pub fn help(&self) -> &str {
        match self {
            Self::Io { .. } => "check that the path exists and is writable",
            Self::File { help, .. } | Self::Package { help, .. } => help,
        }
    }
}
