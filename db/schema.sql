-- db/schema.sql - the results database of pyrefcheck (SQLite).
--
-- The file is a list of forward migrations.  Each starts at a line
-- "-- @version N" and ends with "PRAGMA user_version = N;": the storage
-- module (db/db.c, which embeds this file at build time) applies, in one
-- transaction, every section whose N is above the database's user_version.
-- Never edit a released section: append a new one.
--
-- A pyrefcheck database carries PRAGMA application_id = 1347568433
-- (0x50524331, "PRC1"); a file without it is never touched.

-- @version 1
PRAGMA application_id = 1347568433;

-- One invocation of `pyrefcheck check` that used the database.
CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    started_at     TEXT NOT NULL,          -- UTC, ISO 8601
    finished_at    TEXT,                   -- NULL: interrupted or still running
    tool_version   TEXT NOT NULL,
    rules_hash     TEXT NOT NULL,          -- hash of the knowledge base loaded
    arguments      TEXT NOT NULL,          -- the command line, space separated
    files          INTEGER NOT NULL DEFAULT 0,
    files_failed   INTEGER NOT NULL DEFAULT 0,
    functions      INTEGER NOT NULL DEFAULT 0,
    findings       INTEGER NOT NULL DEFAULT 0,   -- reported (after suppressions/baseline)
    new_findings   INTEGER NOT NULL DEFAULT 0,
    fixed_findings INTEGER NOT NULL DEFAULT 0,
    seconds        REAL NOT NULL DEFAULT 0
);

-- A source file as last analysed.
CREATE TABLE files (
    id             INTEGER PRIMARY KEY,
    path           TEXT NOT NULL UNIQUE,
    content_hash   TEXT,                   -- FNV-1a 64 of the bytes, 16 hex digits
    flags_hash     TEXT,                   -- hash of the compiler arguments
    last_run       INTEGER REFERENCES runs(id),
    last_analysed  TEXT,
    parse_errors   TEXT                    -- NULL when it parsed
);

-- A function whose analysis stopped early (budget), per file and run.
CREATE TABLE functions (
    id             INTEGER PRIMARY KEY,
    file_id        INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    line           INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('complete', 'incomplete')),
    reason         TEXT,
    run_id         INTEGER NOT NULL REFERENCES runs(id),
    UNIQUE (file_id, name)
);

-- One finding, identified across runs by (file, fingerprint, occurrence):
-- occurrence counts findings of one file sharing a fingerprint, in line order.
CREATE TABLE findings (
    id             INTEGER PRIMARY KEY,
    file_id        INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    fingerprint    TEXT NOT NULL,
    occurrence     INTEGER NOT NULL DEFAULT 0,
    rule           TEXT NOT NULL,
    severity       TEXT NOT NULL,
    function       TEXT NOT NULL,
    line           INTEGER NOT NULL,
    col            INTEGER NOT NULL,
    message        TEXT NOT NULL,
    first_seen_run INTEGER NOT NULL REFERENCES runs(id),
    last_seen_run  INTEGER NOT NULL REFERENCES runs(id),
    fixed_run      INTEGER REFERENCES runs(id),   -- run that saw it gone (state fixed)
    times_reopened INTEGER NOT NULL DEFAULT 0,
    state          TEXT NOT NULL CHECK (state IN ('open', 'fixed', 'suppressed')),
    validation     TEXT,                   -- NULL until the runtime has looked at it
    UNIQUE (file_id, fingerprint, occurrence)
);
CREATE INDEX findings_state ON findings(state);
CREATE INDEX findings_rule ON findings(rule);

-- The path of a finding as last reported.
CREATE TABLE path_steps (
    finding_id     INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    file           TEXT,
    line           INTEGER NOT NULL,
    col            INTEGER NOT NULL,
    message        TEXT NOT NULL,
    refs           INTEGER,
    PRIMARY KEY (finding_id, seq)
);

-- Which findings each run saw (for `db diff`).
CREATE TABLE run_findings (
    run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    finding_id     INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    PRIMARY KEY (run_id, finding_id)
);

-- Baseline files written by `pyrefcheck baseline create`.
CREATE TABLE baselines (
    id             INTEGER PRIMARY KEY,
    path           TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE TABLE baseline_entries (
    baseline_id    INTEGER NOT NULL REFERENCES baselines(id) ON DELETE CASCADE,
    fingerprint    TEXT NOT NULL,
    rule           TEXT NOT NULL,
    file           TEXT NOT NULL,
    function       TEXT NOT NULL
);

PRAGMA user_version = 1;

-- @version 2
-- Incremental runs: a file whose content, parser arguments, knowledge base
-- and tool are unchanged since its last complete analysis is not parsed
-- again; its stored findings (and the notes and counters below) are
-- reported instead.
ALTER TABLE files ADD COLUMN rules_hash TEXT;      -- knowledge base and --rules files
ALTER TABLE files ADD COLUMN tool_key TEXT;        -- tool version and build
ALTER TABLE files ADD COLUMN skipped INTEGER;      -- 1: no Python API in it
ALTER TABLE files ADD COLUMN functions INTEGER;
ALTER TABLE files ADD COLUMN functions_incomplete INTEGER;
ALTER TABLE files ADD COLUMN cfg_blocks INTEGER;
ALTER TABLE files ADD COLUMN paths INTEGER;
ALTER TABLE files ADD COLUMN reused_run INTEGER REFERENCES runs(id); -- last run that reused it

-- The location file of a finding when it is not the file's own path.
ALTER TABLE findings ADD COLUMN loc_file TEXT;

-- Files a run took from the database instead of analysing them.
ALTER TABLE runs ADD COLUMN files_reused INTEGER NOT NULL DEFAULT 0;

-- The "analysis incomplete" notes of a file's last analysis, as reported.
CREATE TABLE file_notes (
    file_id        INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    file           TEXT,
    function       TEXT NOT NULL,
    line           INTEGER NOT NULL,
    col            INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    PRIMARY KEY (file_id, seq)
);

PRAGMA user_version = 2;

-- @version 3
-- Every analysed function (not only those that hit a budget), with a hash
-- of its body's text so that changed functions can be told apart.
ALTER TABLE functions ADD COLUMN body_hash TEXT;

PRAGMA user_version = 3;
