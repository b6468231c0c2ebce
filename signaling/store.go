package signaling

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)

	"github.com/crvnode/crvnode/protocol"
)

// Store keeps what must survive a restart: every user an app has seen (so
// getUserStatus lists offline users too) and the meetings that were created
// and not destroyed. Live state (sessions, members, calls) stays in memory.
type Store struct {
	db *sql.DB
	// beforeWrite, when set (by tests), runs before insertMeeting and
	// setDND write, to hold a request at that point.
	beforeWrite atomic.Pointer[func(op string)]
}

func (s *Store) hook(op string) {
	if f := s.beforeWrite.Load(); f != nil {
		(*f)(op)
	}
}

// ErrDuplicate is returned when a meeting ID is already taken.
var ErrDuplicate = errors.New("signaling: duplicate key")

const schema = `
CREATE TABLE IF NOT EXISTS users (
	app_id     TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	nick_name  TEXT NOT NULL,
	dnd        INTEGER NOT NULL DEFAULT 0,
	last_login INTEGER NOT NULL,
	PRIMARY KEY (app_id, user_id)
);
CREATE TABLE IF NOT EXISTS meetings (
	id           INTEGER PRIMARY KEY,
	app_id       TEXT NOT NULL,
	pswd         TEXT NOT NULL,
	subject      TEXT NOT NULL,
	pub_meet_url TEXT NOT NULL,
	creator      TEXT NOT NULL,
	start_time   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS meetings_by_app ON meetings (app_id);
`

// OpenStore opens (creating if needed) the database crvnode.db in dir.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("signaling: data dir: %w", err)
	}
	dsn := "file:" + filepath.Join(dir, "crvnode.db") +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("signaling: open db: %w", err)
	}
	// SQLite allows one writer; a single connection serialises writes in
	// Go instead of through busy retries.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("signaling: create schema: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

type storedUser struct {
	id   protocol.UserID
	nick string
	dnd  int
}

// upsertUser records a login: the user's nickname and login time.
func (s *Store) upsertUser(ctx context.Context, app string, id protocol.UserID, nick string, now int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO users (app_id, user_id, nick_name, last_login) VALUES (?, ?, ?, ?)
		ON CONFLICT (app_id, user_id) DO UPDATE SET nick_name = excluded.nick_name, last_login = excluded.last_login`,
		app, id, nick, now)
	return err
}

// setNick records a user's new nickname.
func (s *Store) setNick(ctx context.Context, app string, id protocol.UserID, nick string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE users SET nick_name = ? WHERE app_id = ? AND user_id = ?`, nick, app, id)
	return err
}

func (s *Store) setDND(ctx context.Context, app string, id protocol.UserID, dnd int) error {
	s.hook("setDND")
	_, err := s.db.ExecContext(ctx, `UPDATE users SET dnd = ? WHERE app_id = ? AND user_id = ?`, dnd, app, id)
	return err
}

func (s *Store) users(ctx context.Context, app string) ([]storedUser, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, nick_name, dnd FROM users WHERE app_id = ?`, app)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedUser
	for rows.Next() {
		var u storedUser
		if err := rows.Scan(&u.id, &u.nick, &u.dnd); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// insertMeeting stores a new meeting; ErrDuplicate if its ID is taken.
func (s *Store) insertMeeting(ctx context.Context, app string, m protocol.MeetInfo) error {
	s.hook("insertMeeting")
	res, err := s.db.ExecContext(ctx, `INSERT INTO meetings (id, app_id, pswd, subject, pub_meet_url, creator, start_time)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		m.ID, app, m.Pswd, m.Subject, m.PubMeetURL, m.Creator, m.StartTime)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrDuplicate
	}
	return nil
}

func (s *Store) deleteMeeting(ctx context.Context, id protocol.MeetingID) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM meetings WHERE id = ?`, id)
	return err
}

func (s *Store) meetings(ctx context.Context, app string) ([]protocol.MeetInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, pswd, subject, pub_meet_url, creator, start_time FROM meetings WHERE app_id = ?`, app)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []protocol.MeetInfo
	for rows.Next() {
		var m protocol.MeetInfo
		if err := rows.Scan(&m.ID, &m.Pswd, &m.Subject, &m.PubMeetURL, &m.Creator, &m.StartTime); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
