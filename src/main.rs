use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use maskd::config::{Config, Secret};
use maskd::startup::{self, Application};
use maskd::types::Role;
use maskd::{crypto, db, rotation, store, telemetry};

/// maskd: data-masking job service, API-compatible with the Delphix Masking Engine.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, then serve HTTP and run this instance's workers (the default).
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Re-encrypt every connector password from MASKD_OLD_SECRET_KEY (unset: the key generated in
    /// maskd's database) to MASKD_SECRET_KEY. Safe to run again.
    RotateSecret,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input (one line).
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = dotenvy::dotenv();
    let logs = telemetry::init();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("maskd: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("maskd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config));
    // The runtime's tasks may log until it is gone; then every line is written, before the last
    // word.
    drop(runtime);
    drop(logs);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("maskd: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => startup::prepare_database(&config)
            .await
            .map_err(|e| e.to_string()),
        Command::RotateSecret => rotate_secret(config).await,
        Command::User {
            command: UserCommand::Add { name, role },
        } => add_user(config, name, role).await,
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let app = Application::build(config)
        .await
        .map_err(|e| e.to_string())?;
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

async fn add_user(config: Config, name: String, role: Role) -> Result<(), String> {
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err("the user name must not be empty".into());
    }
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = password.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err("give the password on standard input, e.g. echo 'secret' | maskd user add NAME --role ADMIN".into());
    }
    startup::prepare_database(&config)
        .await
        .map_err(|e| e.to_string())?;
    let pool = db::pool(config.database_url.expose(), 2, config.db_statement_timeout)
        .await
        .map_err(|e| e.to_string())?;
    let hash = crypto::hash_password(password);
    if store::users::create(&pool, &name, &hash, role)
        .await
        .map_err(|e| e.to_string())?
    {
        eprintln!("maskd: added user '{name}' ({role})");
        Ok(())
    } else {
        Err(format!("a user named '{name}' already exists"))
    }
}

async fn rotate_secret(config: Config) -> Result<(), String> {
    let new = config
        .secret_key
        .as_ref()
        .ok_or_else(|| rotation::RotationError::NoNewKey.to_string())?;
    let old = std::env::var("MASKD_OLD_SECRET_KEY")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(Secret::new);
    // One connection, so that every other maskd connection to the database is someone else's.
    let pool = db::pool(config.database_url.expose(), 1, config.db_statement_timeout)
        .await
        .map_err(|e| e.to_string())?;
    let others = rotation::other_maskd_connections(&pool)
        .await
        .map_err(|e| e.to_string())?;
    if others > 0 {
        eprintln!(
            "maskd: warning: {others} other maskd connection(s) to this database are open. An instance \
             still running with the old key cannot use a re-encrypted password, and a password set \
             through it is stored under the old key: restart every instance with the new \
             MASKD_SECRET_KEY, then run this command again"
        );
    }
    let outcome = rotation::rotate(&pool, old.as_ref(), new)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "maskd: connector passwords re-encrypted under the new key: {}; already under it: {}; \
         connectors without a password: {}; not decryptable: {}",
        outcome.re_encrypted,
        outcome.already_new,
        outcome.without_password,
        outcome.undecryptable.len()
    );
    if outcome.undecryptable.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = outcome.undecryptable.iter().map(i64::to_string).collect();
    Err(format!(
        "the stored password of database connector(s) {} cannot be decrypted with the old key nor \
         the new one, and was left as it is. If MASKD_OLD_SECRET_KEY is not the key those passwords \
         were stored with, run again with the right one (unset for the key maskd generated in its \
         database); otherwise set each of these connectors' password again (PUT \
         /database-connectors/{{id}} with \"password\") through an instance running with the new key",
        ids.join(", ")
    ))
}
