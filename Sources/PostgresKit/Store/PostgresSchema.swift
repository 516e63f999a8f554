import StreamCore

/// The tables coordd keeps in PostgreSQL, created at start and versioned in `coordd_schema`.
///
/// The SQL is portable (no LISTEN/NOTIFY, no advisory locks): what orders writers is primary keys and
/// row locks. Names of spaces, segments and lease keys use the "C" collation, so PostgreSQL orders them
/// by their UTF-8 bytes exactly as the file store does.
public enum PostgresSchema {
    /// The schema version this build creates and understands.
    public static let version: Int64 = 3

    /// Statements that take an empty database to each version, in order: `migrations[0]` makes version 1.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE coordd_nodes (
                node_id text PRIMARY KEY, advertise_url text NOT NULL, heartbeat_at timestamptz NOT NULL)
            """,
            """
            CREATE TABLE coordd_stores (
                store_id uuid PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT clock_timestamp())
            """,
            """
            CREATE TABLE coordd_store_owner (
                store_id uuid PRIMARY KEY, owner_node text NOT NULL, epoch bigint NOT NULL, expires_at timestamptz NOT NULL)
            """,
            """
            CREATE TABLE coordd_fences (
                store_id uuid PRIMARY KEY, highest_fence bigint NOT NULL CHECK (highest_fence >= 0))
            """,
            """
            CREATE TABLE coordd_leases (
                store_id uuid NOT NULL, key text COLLATE "C" NOT NULL, holder text NOT NULL, fence bigint NOT NULL,
                ttl_ms bigint NOT NULL, worker_id uuid, PRIMARY KEY (store_id, key))
            """,
            """
            CREATE TABLE coordd_spaces (
                store_id uuid NOT NULL, space text COLLATE "C" NOT NULL, last_timestamp bigint NOT NULL,
                PRIMARY KEY (store_id, space))
            """,
            """
            CREATE TABLE coordd_segments (
                store_id uuid NOT NULL, space text COLLATE "C" NOT NULL, segment text COLLATE "C" NOT NULL,
                last_sequence bigint NOT NULL, last_trx_number bigint NOT NULL, first_timestamp bigint NOT NULL,
                last_timestamp bigint NOT NULL, entries bigint NOT NULL, payload_bytes bigint NOT NULL,
                PRIMARY KEY (store_id, space, segment))
            """,
            """
            CREATE TABLE coordd_entries (
                store_id uuid NOT NULL, space text COLLATE "C" NOT NULL, segment text COLLATE "C" NOT NULL,
                sequence bigint NOT NULL, ts bigint NOT NULL, trx_id uuid, trx_number bigint NOT NULL, payload bytea,
                metadata text, PRIMARY KEY (store_id, space, segment, sequence))
            """,
            "CREATE INDEX coordd_entries_space_order ON coordd_entries (store_id, space, ts, segment, sequence)",
        ],
        // Version 2: the lease log (``PostgresLeaseLog``): the last checkpoint and the events after it, in
        // `position` order; kind 0 is an event, 1 the start of a checkpoint, 2 one of its records.
        [
            """
            CREATE TABLE coordd_lease_log (
                store_id uuid NOT NULL, position bigint NOT NULL, kind smallint NOT NULL, record bytea NOT NULL,
                PRIMARY KEY (store_id, position))
            """
        ],
        // Version 3: store ownership is enforced (``StoreOwnershipSQL``): every write transaction checks its
        // owner's epoch in `coordd_store_owner`. The version itself is the point: a coordd of version 2,
        // which writes without that check, refuses this database instead of writing beside an owner.
        // Epochs start at 1; a node may run without an advertised URL; a node's stores are found by node.
        [
            "ALTER TABLE coordd_store_owner ADD CONSTRAINT coordd_store_owner_epoch CHECK (epoch >= 1)",
            "ALTER TABLE coordd_nodes ALTER COLUMN advertise_url DROP NOT NULL",
            "CREATE INDEX coordd_store_owner_by_node ON coordd_store_owner (owner_node)",
        ],
    ]

    /// Attempts when two daemons create the schema at the same moment (one of them loses a race on
    /// PostgreSQL's catalogue and tries again, then finds the schema made).
    static let maxAttempts = 3

    /// Creates the schema when the database has none, upgrades an older one, and refuses a newer one
    /// (a permanent `storage_error` saying so). Returns the version found before (0 for none).
    @discardableResult
    public static func prepare(on pool: PostgresPool) async throws(StreamsError) -> Int64 {
        var lastError: StreamsError?
        for _ in 0..<maxAttempts {
            do {
                return try await pool.transaction { s throws(StreamsError) in try prepare(s) }
            } catch {
                if error.name == "schema_too_new" { throw error }
                lastError = error
            }
        }
        throw lastError ?? .storage("postgres: cannot prepare the schema")
    }

    /// The version the database holds, or 0 when it has no coordd schema.
    public static func installedVersion(on pool: PostgresPool) async throws(StreamsError) -> Int64 {
        try await pool.run { s throws(StreamsError) in
            let exists = try s.query("SELECT to_regclass('coordd_schema') IS NOT NULL").bool(0, 0) ?? false
            guard exists else { return 0 }
            let rows = try s.query("SELECT version FROM coordd_schema WHERE id = 1")
            return rows.count == 0 ? 0 : try rows.int64(0, 0) ?? 0
        }
    }

    static func prepare(_ s: PostgresSession) throws(StreamsError) -> Int64 {
        try s.execute("CREATE TABLE IF NOT EXISTS coordd_schema (id smallint PRIMARY KEY CHECK (id = 1), version bigint NOT NULL, "
                      + "updated_at timestamptz NOT NULL DEFAULT clock_timestamp())")
        // Daemons starting together take turns: the first migrates, the others find it done.
        try s.execute("LOCK TABLE coordd_schema IN SHARE ROW EXCLUSIVE MODE")
        let rows = try s.query("SELECT version FROM coordd_schema WHERE id = 1")
        let found = rows.count == 0 ? 0 : try rows.int64(0, 0) ?? 0
        if found > version {
            throw StreamsError(
                .permanent, name: "schema_too_new",
                message: "postgres: the database holds coordd schema version \(found), newer than this coordd knows (\(version)); "
                    + "run a coordd release that knows version \(found), or point this one at another database")
        }
        guard found < version else { return found }
        for statements in migrations[Int(found)..<Int(version)] {
            for statement in statements { try s.execute(statement) }
        }
        try s.query("INSERT INTO coordd_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, "
                    + "updated_at = clock_timestamp()", [.int64(version)])
        return found
    }
}
