//! The `gatehouse-server` command: `serve`, `seed`, `openapi`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use gatehouse_api::Secret;
use gatehouse_server::keys::KeySource;
use gatehouse_server::seed::{SeedOptions, seed_demo};
use gatehouse_server::store::{self, Location};
use gatehouse_server::{AppState, Config, SignInLimits, SystemClock, app};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "gatehouse-server", version, about = "The Gatehouse User Management API server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the server keys are (see `keys --help`).
#[derive(clap::Args, Clone)]
struct KeyArgs {
    /// The key file: it signs tokens and encrypts TOTP secrets, and is created 0600 if
    /// missing [default: beside the database, `gatehouse.keys` for `gatehouse.db`].
    #[arg(long, env = "GATEHOUSE_KEYS_FILE")]
    keys_file: Option<PathBuf>,
    /// The keys themselves instead of a file (the file's lines, or its entries separated by
    /// commas), e.g. from a secrets manager. Every server process needs the same keys.
    #[arg(long = "keys", env = "GATEHOUSE_KEYS", hide_env_values = true, hide = true)]
    inline_keys: Option<String>,
}

impl KeyArgs {
    fn source(&self, db: &Location) -> anyhow::Result<KeySource> {
        KeySource::choose(self.inline_keys.clone(), self.keys_file.clone(), db.file())
    }
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List the keys, current first.
    List,
    /// Put a new key first: it signs and encrypts from now on. The old keys still verify, so
    /// nobody is signed out; TOTP secrets are re-encrypted now, and running servers take the
    /// changed key file up within a second.
    Rotate,
    /// Remove a key that is no longer current. Access tokens and invitation links it signed
    /// stop working (sessions go on: apps refresh): retire it once invitations sent before
    /// the rotation have expired. Running servers take the change up within a second.
    Retire {
        /// The key's id, as `keys list` shows it.
        id: String,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// The database: a SQLite file (created and migrated if needed) or a postgres:// URL
        /// [default: gatehouse.db in the platform data dir].
        #[arg(long, env = "GATEHOUSE_DB", hide_env_values = true)]
        db: Option<Location>,
        #[command(flatten)]
        keys: KeyArgs,
        /// Address to listen on; port 0 picks a free port. The bound address is printed.
        #[arg(long, env = "GATEHOUSE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Lifetime of access tokens, in seconds.
        #[arg(long, env = "GATEHOUSE_ACCESS_TOKEN_TTL", default_value_t = 900, value_parser = clap::value_parser!(u32).range(1..=86_400))]
        access_token_ttl: u32,
        /// Lifetime of refresh tokens, in days.
        #[arg(long, env = "GATEHOUSE_REFRESH_TOKEN_TTL_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
        refresh_token_ttl_days: u32,
        /// Proxies (addresses or CIDR blocks, comma-separated) whose X-Forwarded-For is
        /// believed; from anyone else the peer address is the client's.
        #[arg(long, env = "GATEHOUSE_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<gatehouse_server::net::IpBlock>,
        /// Failed sign-ins of one account that lock it (0: never lock).
        #[arg(long, env = "GATEHOUSE_LOCKOUT_FAILURES", default_value_t = 5)]
        lockout_failures: u32,
        /// The window those failures are counted in, and the longest a lock lasts, in minutes.
        #[arg(long, env = "GATEHOUSE_LOCKOUT_MINUTES", default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=1440))]
        lockout_minutes: u32,
        /// Failed sign-ins from one IP address that rate-limit it (0: no limit).
        #[arg(long, env = "GATEHOUSE_IP_FAILURES", default_value_t = 30)]
        ip_failures: u32,
        /// The window those failures are counted in, in minutes.
        #[arg(long, env = "GATEHOUSE_IP_WINDOW_MINUTES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1440))]
        ip_window_minutes: u32,
        /// The SMTP relay for outgoing mail: `smtp://host:25`, `smtp://host:587?tls=required`
        /// (STARTTLS) or `smtps://user:password@host:465`. Without one, mail stays queued.
        #[arg(long, env = "GATEHOUSE_SMTP_URL", hide_env_values = true)]
        smtp_url: Option<String>,
        /// The From: of outgoing mail.
        #[arg(long, env = "GATEHOUSE_MAIL_FROM", default_value = "Gatehouse <gatehouse@localhost>")]
        mail_from: String,
        /// Keep every outgoing message readable at GET /v1/dev/mailbox. For demo servers only.
        #[arg(long, env = "GATEHOUSE_DEV_MAILBOX")]
        dev_mailbox: bool,
        /// The server's address as users' browsers reach it, for links in e-mail
        /// [default: http:// and the listening address].
        #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
        public_url: Option<String>,
        /// How long a password-reset link works, in minutes.
        #[arg(long, env = "GATEHOUSE_PASSWORD_RESET_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u32).range(5..=10_080))]
        password_reset_minutes: u32,
        /// A session ends this many days after sign-in, however active (besides the idle end
        /// of its refresh token).
        #[arg(long, env = "GATEHOUSE_SESSION_MAX_AGE_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
        session_max_age_days: u32,
        /// How long login attempts, ended sessions, spent refresh tokens and used or expired
        /// reset links are kept, in days.
        #[arg(long, env = "GATEHOUSE_SECURITY_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
        security_retention_days: u32,
    },
    /// Create an organization in a new database.
    Seed {
        /// The database: a SQLite file or a postgres:// URL [default: the platform data dir].
        #[arg(long, env = "GATEHOUSE_DB", hide_env_values = true)]
        db: Option<Location>,
        #[command(flatten)]
        keys: KeyArgs,
        /// Create the "Acme" demo organization with generated users.
        #[arg(long)]
        demo: bool,
        /// Number of generated users.
        #[arg(long, default_value_t = 200)]
        users: u32,
        /// Number of sessions, spread over active users [default: one for each of a few hundred].
        #[arg(long, default_value_t = 0)]
        sessions: u32,
        /// Audit events of history to generate, spread over the last 90 days.
        #[arg(long, default_value_t = gatehouse_server::seed::DEMO_EVENTS)]
        events: u32,
        /// The owner's e-mail.
        #[arg(long, default_value = "owner@acme.test")]
        owner_email: String,
        /// The owner's password [default: a random one, printed once]. Prefer the
        /// environment variable: command lines are visible to other local users.
        #[arg(long, env = "GATEHOUSE_OWNER_PASSWORD", hide_env_values = true)]
        owner_password: Option<String>,
    },
    /// Manage the server keys, which live outside the database.
    Keys {
        /// The database: a SQLite file or a postgres:// URL [default: the platform data dir].
        #[arg(long, env = "GATEHOUSE_DB", hide_env_values = true)]
        db: Option<Location>,
        /// The key file [default: beside the database].
        #[arg(long, env = "GATEHOUSE_KEYS_FILE")]
        keys_file: Option<PathBuf>,
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Manage API keys from the command line (headless set-up of provisioning).
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print its secret, once. With `--role scim` it is a provisioning
    /// key: it reaches only what the built-in SCIM provisioning role does (people,
    /// departments and companies), and never more than its user.
    Create {
        /// The database: a SQLite file or a postgres:// URL [default: the platform data dir].
        #[arg(long, env = "GATEHOUSE_DB", hide_env_values = true)]
        db: Option<Location>,
        /// The organization, by name.
        #[arg(long)]
        org: String,
        /// The key's name, as the app lists it (e.g. "Okta").
        #[arg(long)]
        name: String,
        /// Limit the key to this role: `scim`, or a role key of the organization.
        #[arg(long)]
        role: Option<String>,
        /// The user the key acts as [default: the organization's first active Owner].
        #[arg(long)]
        user: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve {
            db: path,
            keys,
            listen,
            access_token_ttl,
            refresh_token_ttl_days,
            trusted_proxies,
            lockout_failures,
            lockout_minutes,
            ip_failures,
            ip_window_minutes,
            smtp_url,
            mail_from,
            dev_mailbox,
            public_url,
            password_reset_minutes,
            session_max_age_days,
            security_retention_days,
        } => {
            let smtp = smtp_url.map(|url| gatehouse_server::mail::SmtpRelay { url: url.into() });
            if let Some(relay) = &smtp {
                relay.transport()?;
            }
            mail_from.parse::<lettre::message::Mailbox>().with_context(|| format!("--mail-from {mail_from:?} is not an e-mail address"))?;
            let path = match path {
                Some(p) => p,
                None => Location::Sqlite(store::default_db_path()?),
            };
            let config = Config {
                access_token_ttl: chrono::Duration::seconds(i64::from(access_token_ttl)),
                refresh_token_ttl: chrono::Duration::days(i64::from(refresh_token_ttl_days)),
                trusted_proxies,
                sign_in_limits: SignInLimits {
                    account_failures: lockout_failures,
                    account_window: chrono::Duration::minutes(i64::from(lockout_minutes)),
                    ip_failures,
                    ip_window: chrono::Duration::minutes(i64::from(ip_window_minutes)),
                },
                smtp,
                mail_from,
                dev_mailbox,
                password_reset_ttl: chrono::Duration::minutes(i64::from(password_reset_minutes)),
                session_max_age: chrono::Duration::days(i64::from(session_max_age_days)),
                security_retention: chrono::Duration::days(i64::from(security_retention_days)),
                key_source: Some(keys.source(&path)?),
                ..Config::default()
            };
            let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
            let addr = listener.local_addr()?;
            let config = Config { public_url: public_url.unwrap_or_else(|| format!("http://{addr}")), ..config };
            let state = AppState::open(path.clone(), Arc::new(SystemClock), config).await?;
            // The first stdout line is the contract with scripts and tests that start us on port 0.
            println!("listening on http://{addr}");
            std::io::stdout().flush()?;
            tracing::info!(db = %path, "serving on http://{addr}");
            gatehouse_server::retention::spawn_maintenance(state.clone());
            gatehouse_server::mail::spawn_worker(state.clone())?;
            app::serve(listener, app::build(state)).await
        }
        Command::Seed { db: path, keys, demo, users, sessions, events, owner_email, owner_password } => {
            anyhow::ensure!(demo, "only `seed --demo` exists so far");
            let path = match path {
                Some(p) => p,
                None => Location::Sqlite(store::default_db_path()?),
            };
            let generated = owner_password.is_none();
            let password = Secret::new(owner_password.unwrap_or_else(random_password));
            let pool = store::connect(&path).await?;
            let keys = gatehouse_server::keys::load(&pool, &keys.source(&path)?).await?;
            let started = std::time::Instant::now();
            let opts = SeedOptions { users, owner_email: owner_email.clone(), owner_password: password.clone(), sessions, events };
            let report = seed_demo(&pool, &SystemClock, &keys, &opts).await?;
            let elapsed = started.elapsed();
            println!(
                "seeded organization Acme ({}) in {}: {} users, {} sessions, {} login attempts, {} audit events in {:.2}s",
                report.org_id,
                path,
                report.users,
                report.sessions,
                report.login_attempts,
                report.audit_events,
                elapsed.as_secs_f64()
            );
            println!("owner: {owner_email}");
            if generated {
                // Shown once, on the terminal of whoever seeded; never written anywhere.
                println!("owner password (shown only now): {}", password.expose());
            }
            println!("staff accounts admin@, manager@, member@, support@acme.test share the owner's password");
            Ok(())
        }
        Command::ApiKey { action: ApiKeyCommand::Create { db: path, org, name, role, user } } => {
            let path = match path {
                Some(p) => p,
                None => Location::Sqlite(store::default_db_path()?),
            };
            let pool = store::connect(&path).await?;
            let (key, secret) =
                gatehouse_server::routes::apikeys::create_from_command_line(&pool, &org, user.as_deref(), &name, role.as_deref(), chrono::Utc::now())
                    .await?;
            pool.close().await;
            eprintln!("created API key {} ({}) for {org}; its secret, shown only now:", key.name, key.prefix);
            println!("{}", secret.expose());
            Ok(())
        }
        Command::Keys { db: path, keys_file, action } => {
            let path = match path {
                Some(p) => p,
                None => Location::Sqlite(store::default_db_path()?),
            };
            anyhow::ensure!(
                std::env::var_os("GATEHOUSE_KEYS").is_none_or(|v| v.is_empty()),
                "GATEHOUSE_KEYS holds this server's keys, not a key file: rotate them where they are kept (the new key first, the old ones after it)"
            );
            let file = match (keys_file, path.file()) {
                (Some(file), _) => file,
                (None, Some(db)) => gatehouse_server::keys::key_file_beside(db),
                (None, None) => anyhow::bail!("with a PostgreSQL database, say which key file with --keys-file"),
            };
            anyhow::ensure!(
                file.exists(),
                "there is no key file at {}: the server creates it at its first start (or pass --keys-file)",
                file.display()
            );
            let pool = store::connect(&path).await?;
            let keys = gatehouse_server::keys::load(&pool, &KeySource::File(file.clone())).await?;
            match action {
                KeysCommand::List => {
                    for (i, (id, created)) in keys.list().into_iter().enumerate() {
                        let used = gatehouse_server::keys::secrets_under(&pool, id).await?;
                        println!("{id}\tcreated {created}\t{}\t{used} TOTP secrets", if i == 0 { "current" } else { "verifies only" });
                    }
                }
                KeysCommand::Rotate => {
                    let rotated = keys.rotated(&gatehouse_server::keys::today());
                    gatehouse_server::keys::replace_file(&file, &rotated)?;
                    let resealed = gatehouse_server::keys::reseal(&pool, &rotated).await?;
                    println!("new current key {} in {}; {resealed} TOTP secrets re-encrypted", rotated.current_id(), file.display());
                    println!(
                        "running servers sign with it within a second; retire {} once invitation links sent before now have expired",
                        keys.current_id()
                    );
                }
                KeysCommand::Retire { id } => {
                    let kept = keys.without(&id)?;
                    let used = gatehouse_server::keys::secrets_under(&pool, &id).await?;
                    anyhow::ensure!(
                        used == 0,
                        "{used} TOTP secrets are still encrypted with {id}: start the server once with the current key (it re-encrypts them), then retire {id}"
                    );
                    gatehouse_server::keys::replace_file(&file, &kept)?;
                    println!("retired {id}; tokens and invitation links it signed no longer work");
                }
            }
            pool.close().await;
            Ok(())
        }
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&app::openapi_document())?);
            Ok(())
        }
    }
}

fn random_password() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(gatehouse_server::tokens::random_bytes::<12>())
}
