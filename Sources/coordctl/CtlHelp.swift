import StreamCore

/// coordctl's help texts: the general one and one per command.
enum CtlHelp {
    static let globalOptions = """
        Global options (before or after the command):
          --server URL    The daemon: ws://HOST:PORT or wss://HOST:PORT (default ws://127.0.0.1:7070)
          --token T       Bearer token (default: $COORDD_TOKEN)
          --ca-file F     PEM CA certificates that verify a wss:// server (default: system trust store)
          --cert-file F   PEM client certificate for a server that requires one (mutual TLS; wss:// only)
          --key-file F    PEM private key of --cert-file
          --store UUID    The store to address (default \(WireUUID.defaultStore), the daemon's default store)
          --json          One JSON object per line instead of tables, for scripts
          --help, -h      Help for coordctl or for one command
          --version       Print coordctl's version and exit
        """

    /// Every command: its name (what `--help` and completion know it by), its synopsis and what it does.
    /// The general help's list and the shell completions are made from this table.
    static let commands: [(name: String, synopsis: String, summary: String)] = [
        ("workers", "workers [--watch]", "Registered workers (--watch: again after every change)"),
        ("worker", "worker [--id UUID] [--meta K=V,…]", "Register a worker and keep it present until interrupted"),
        ("lease acquire", "lease acquire KEY [--holder H] [--ttl D]", "Acquire a lease (--wait D: wait up to D for it)"),
        ("lease renew", "lease renew KEY --holder H [--ttl D]", "Renew a lease you hold"),
        ("lease release", "lease release KEY --holder H", "Release a lease you hold"),
        ("lease list", "lease list [PREFIX]", "Live leases, optionally only keys starting with PREFIX"),
        ("produce", "produce SPACE SEGMENT", "Produce one record per line of standard input"),
        ("consume", "consume SPACE [SEGMENT] [--follow]", "Read a space or one segment (--follow: keep reading)"),
        ("spaces", "spaces", "Space names"),
        ("segments", "segments SPACE", "Segment names of a space"),
        ("status", "status", "What the store holds and who is connected"),
        ("assignments", "assignments [GROUP]", "Partition assignment groups, or one group's members, owners and fences"),
        ("health", "health [--ready]", "The daemon's /healthz (or /readyz) answer; exit 0 for 200"),
        ("cluster", "cluster", "The cluster's live daemons and the stores each owns (--storage postgres)"),
        ("store create", "store create UUID", "Create a store (when the daemon does not create them itself)"),
        ("token mint", "token mint --hs256-secret-file F [--ttl D]", "A development token for a daemon using that secret"),
        ("completion", "completion bash|zsh", "A shell completion script (source <(coordctl completion bash))"),
    ]

    /// The commands as the general help lists them.
    static var commandList: String {
        commands.map { command in
            let padded = command.synopsis.count < 45
                ? command.synopsis + String(repeating: " ", count: 45 - command.synopsis.count) : command.synopsis + "  "
            return "  " + padded + command.summary
        }.joined(separator: "\n")
    }

    static let general = """
        Usage: coordctl [options] COMMAND [arguments]

        A human's tool for coordd: watch workers, manage leases, produce and read entries.

        Commands:
        \(commandList)

        \(globalOptions)

        Exit status: 0 ok, 1 the daemon answered with an error (its name and text go to stderr),
        2 bad usage, 3 the daemon could not be reached or the connection to it was lost (with a hint
        when the cause is a common one: nothing listening, ws:// against a TLS port, an unknown CA).

        """

    /// The help of one command (`lease acquire`), of the `lease` group, or nil for an unknown name.
    static func text(for command: String) -> String? {
        let body: String
        switch command {
        case "workers":
            body = """
                Usage: coordctl workers [--watch]

                Lists the workers registered with the store: id, when the server last heard from each, and
                metadata. With --watch, prints the list again after every change until interrupted; a slow
                terminal skips intermediate lists but never shows an older one after a newer one. When the
                connection is lost it says so and, once it is back, prints the list again; if the daemon
                restarted meanwhile (a new epoch), it says that revisions count from 0 again.
                """
        case "worker":
            body = """
                Usage: coordctl worker [--id UUID] [--meta K=V,K2=V2] [--heartbeat D]

                Registers a worker (a new random id when --id is omitted) with optional metadata and keeps
                its presence alive with a heartbeat every D (default 10s) until interrupted (Ctrl-C);
                observers see it join and, when coordctl stops, leave. When the connection is lost it says
                so, registers again once the daemon can be reached, and says that too. Exits 1 with the
                server's error if the registration ends first (another stream registered the same id, or
                it was evicted).
                """
        case "lease":
            body = """
                Usage: coordctl lease acquire|renew|release|list …

                Leases give one holder at a time a key (typically a partition) for a TTL, with a fencing
                token that grows with every new holder. See 'coordctl lease acquire --help' and the others.
                """
        case "lease acquire":
            body = """
                Usage: coordctl lease acquire KEY [--holder H] [--ttl D] [--wait D]

                Acquires KEY for holder H (a new random holder when omitted; it is printed so you can renew
                and release) for D (default 30s; e.g. 10s, 1500ms, 2m). Acquiring a lease you already hold
                extends it. Prints the fencing token and the expiry; exits 1 with lease_not_acquired when
                another holder has it, and with invalid_request when the daemon refuses the request itself
                (e.g. a TTL beyond its maximum). With --wait D, waits up to D for the holder to release it
                or for its lease to expire (the daemon says when: nothing is polled), then exits 1 with
                wait_timed_out if it is still held.
                """
        case "lease renew":
            body = """
                Usage: coordctl lease renew KEY --holder H [--ttl D]

                Extends H's live lease on KEY by D (default 30s). Exits 1 with lease_not_renewed when H does
                not hold it (it expired, or another holder has it), and with invalid_request when the
                daemon refuses the request itself.
                """
        case "lease release":
            body = """
                Usage: coordctl lease release KEY --holder H

                Ends H's lease on KEY so another holder can acquire it at once. Exits 1 with
                lease_not_released when H does not hold it.
                """
        case "lease list":
            body = """
                Usage: coordctl lease list [PREFIX]

                Lists live leases in key order: key, holder, fencing token, expiry and TTL. With PREFIX, only
                keys that start with it.
                """
        case "produce":
            body = """
                Usage: coordctl produce SPACE SEGMENT

                Reads standard input and writes one record per line (without the line feed) to SEGMENT of
                SPACE. It reads the segment's head first and numbers the records from the next sequence,
                so a concurrent producer makes it fail with sequence_gap rather than overwrite anything.
                Prints what was committed.
                """
        case "consume":
            body = """
                Usage: coordctl consume SPACE [SEGMENT] [--follow]

                Prints the entries of SPACE in space order (timestamp, segment, sequence), or of one SEGMENT
                in sequence order. Payloads are shown as text when they are printable UTF-8, otherwise as
                base64:…. With --follow, keeps printing new entries as they are committed until interrupted.
                """
        case "assignments":
            body = """
                Usage: coordctl assignments [GROUP]

                Without GROUP, lists the store's partition assignment groups: members present and absent, and
                partitions owned. With GROUP, shows its members (weight, present or absent until when,
                partitions held and planned) and each partition's state (owned, releasing, reserved for an
                absent member, unowned), owner, fence and deadline. A group that uses zones shows each
                member's zone and each pinned partition's; a partition pinned to a zone without members is
                shown as unplaceable, with why. --json prints the daemon's answer.
                """
        case "spaces":
            body = """
                Usage: coordctl spaces

                Lists the store's space names in byte order.
                """
        case "segments":
            body = """
                Usage: coordctl segments SPACE

                Lists the segment names of SPACE in byte order.
                """
        case "health":
            body = """
                Usage: coordctl health [--ready]

                Asks the daemon's /healthz (with --ready, /readyz) over plain HTTP, through TLS for a wss://
                server, and prints the answer (e.g. "ok coordd 0.4.0"). Exits 0 for 200, 1 for any other
                answer or none. Needs no token: a container's or supervisor's health check.
                """
        case "cluster":
            body = """
                Usage: coordctl cluster

                Lists the daemons sharing the server's PostgreSQL database, as the server last read them
                (every third of the ownership TTL): node id, whether it is the server itself, its advertise
                URL, the stores it owns, how old its heartbeat is. From the server's /readyz over plain
                HTTP (through TLS for wss://); needs no token. Exits 1 for a daemon without a cluster.
                """
        case "token", "token mint":
            body = """
                Usage: coordctl token mint --hs256-secret-file F [--store UUID | --all-stores] [--ttl D] [--sub NAME]

                Prints an HS256 JWT for a daemon started with --jwt-hs256-secret-file F (the same file: its
                exact bytes are the secret). For development and tests; production tokens come from an
                identity provider. Claims: "sub" NAME (default coordctl), "scopes" ["streamkit::UUID"] for
                --store (default the default store) or ["streamkit::*"] with --all-stores, "iat" now and
                "exp" now + D (default 1h), both in Unix seconds. Use it with --token or COORDD_TOKEN:
                  export COORDD_TOKEN=$(coordctl token mint --hs256-secret-file secret --ttl 8h)
                """
        case "completion":
            body = """
                Usage: coordctl completion bash|zsh

                Prints a completion script for commands, subcommands and options. Load it with
                  source <(coordctl completion bash)      # in ~/.bashrc
                  source <(coordctl completion zsh)       # in ~/.zshrc, after compinit
                """
        case "store":
            body = """
                Usage: coordctl store create UUID

                A daemon started with --auto-create-stores false creates stores only when asked (or when
                they are declared with its --stores). See 'coordctl store create --help'.
                """
        case "store create":
            body = """
                Usage: coordctl store create UUID

                Creates the store UUID (your token must cover it) and prints whether it was created or
                existed already; both exit 0. A daemon that creates stores on first use needs no create;
                one started with --auto-create-stores false answers store_not_found for every store that
                was neither created this way nor declared with --stores.
                """
        case "status":
            body = """
                Usage: coordctl status

                Shows what the store holds (spaces, segments, entries, payload bytes) and who is connected
                (workers, observers, live leases), with the store's storage kind and inventory revision.
                """
        default:
            return nil
        }
        return body + "\n\n" + globalOptions + "\n"
    }
}
