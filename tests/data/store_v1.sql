-- A run store as schema 1 wrote it (before A/B pairs and board names): the migration test opens it.
CREATE TABLE store_version (version INTEGER NOT NULL);
INSERT INTO store_version VALUES (1);
CREATE TABLE runs (
	id VARCHAR(64) NOT NULL, owner VARCHAR(80), server VARCHAR(200), submitted_at FLOAT NOT NULL,
	started_at FLOAT, ended_at FLOAT, status VARCHAR(16) NOT NULL, reason TEXT NOT NULL, experiment TEXT NOT NULL,
	data_key VARCHAR(64), metric VARCHAR(16), epochs_done INTEGER NOT NULL, start BLOB, test_metrics TEXT,
	csv_values BLOB, csv_digest VARCHAR(64), nbytes BIGINT NOT NULL, PRIMARY KEY (id)
);
CREATE INDEX ix_runs_data_key ON runs (data_key);
CREATE INDEX ix_runs_owner ON runs (owner);
CREATE TABLE epochs (
	run_id VARCHAR(64) NOT NULL, epoch INTEGER NOT NULL, epochs INTEGER NOT NULL, loss FLOAT, metric FLOAT,
	val_loss FLOAT, val_metric FLOAT, seconds FLOAT, samples_per_s FLOAT, elapsed FLOAT, PRIMARY KEY (run_id, epoch)
);
CREATE TABLE snapshots (
	run_id VARCHAR(64) NOT NULL, epoch INTEGER NOT NULL, nbytes INTEGER NOT NULL, body BLOB NOT NULL,
	PRIMARY KEY (run_id, epoch)
);
CREATE TABLE artifacts (
	run_id VARCHAR(64) NOT NULL, name VARCHAR(64) NOT NULL, body BLOB NOT NULL, PRIMARY KEY (run_id, name)
);
INSERT INTO runs VALUES ('job-v1-1', 'browser-a', 'elsewhere:1:0.00', 1764600000.0, 1764600001.0, 1764600031.0,
	'finished', 'Finished all 3 epochs.', '{
  "schema": 2,
  "data": {
    "generator": "delay",
    "n_sequences": 2000,
    "seq_len": 30,
    "vocab_size": 4,
    "noise": 0.0,
    "pattern": "motif",
    "motif_len": 4,
    "lag": 20,
    "copy_len": 10,
    "n_points": 1000,
    "frequency": 0.05,
    "amplitude": 1.0,
    "phase": 0.0,
    "n_components": 3,
    "ar_order": 2,
    "mg_tau": 17,
    "csv_column": "",
    "horizon": 1,
    "val_fraction": 0.2,
    "test_fraction": 0.1,
    "seed": 42
  },
  "model": {
    "cell": "LSTM",
    "layers": 1,
    "units": 32,
    "activation": "tanh",
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "l1": 0.0,
    "l2": 0.0
  },
  "train": {
    "optimizer": "adam",
    "learning_rate": 0.01,
    "clipnorm": 0.0,
    "batch_size": 32,
    "epochs": 30,
    "seed": 42,
    "snapshot_every": 2,
    "time_limit_s": 600.0,
    "backend": "tensorflow"
  }
}', 'k1', 'accuracy', 3, NULL,
	'{"loss": 0.9, "accuracy": 0.61}', NULL, NULL, 512);
INSERT INTO epochs VALUES ('job-v1-1', 1, 3, 1.38, 0.26, 1.37, 0.27, 11.0, 180.0, 11.0);
INSERT INTO epochs VALUES ('job-v1-1', 2, 3, 1.2, 0.4, 1.1, 0.45, 9.0, 220.0, 20.0);
INSERT INTO epochs VALUES ('job-v1-1', 3, 3, 0.95, 0.6, 0.9, 0.61, 10.0, 200.0, 30.0);
INSERT INTO artifacts VALUES ('job-v1-1', 'history.csv', X'65706f63680a');
