package bottest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// MaxFrameSize is the largest frame Slack accepts from an app; bigger acks close the link.
const MaxFrameSize = 20480

var upgrader = websocket.Upgrader{
	// slack-go sends Origin: https://api.slack.com; accept it like Slack does.
	CheckOrigin: func(*http.Request) bool { return true },
}

// conn is one Socket Mode link.
type conn struct {
	id      string
	ws      *websocket.Conn
	wmu     sync.Mutex // gorilla allows one writer at a time
	done    chan struct{}
	once    sync.Once
	closing bool // told to disconnect, or dropped; guarded by Server.mu
}

func (c *conn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	defer func() { _ = c.ws.SetWriteDeadline(time.Time{}) }()
	return c.ws.WriteJSON(v)
}

func (c *conn) close() { c.once.Do(func() { _ = c.ws.Close() }) }

func (s *Server) serveLink(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	ok := s.tickets[ticket]
	delete(s.tickets, ticket)
	closed := s.closed
	s.mu.Unlock()
	if !ok || closed {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	// Slack closes the link with 1009 when a frame from the app is 20 KiB or more.
	ws.SetReadLimit(MaxFrameSize)
	c := &conn{id: ticket, ws: ws, done: make(chan struct{})}

	s.mu.Lock()
	n := s.liveConns() + 1
	s.mu.Unlock()
	hello := obj{
		"type":            "hello",
		"num_connections": n,
		"connection_info": obj{"app_id": AppID},
		"debug_info":      obj{"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
	}
	if err := c.write(hello); err != nil {
		c.close()
		return
	}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.notify()
	s.mu.Unlock()
	s.log("bottest: socket link %s connected", c.id)

	go s.ping(c)
	s.readAcks(c)

	c.close()
	close(c.done)
	s.mu.Lock()
	s.conns = slices.DeleteFunc(s.conns, func(x *conn) bool { return x == c })
	s.notify()
	s.mu.Unlock()
	s.log("bottest: socket link %s closed", c.id)
}

func (s *Server) ping(c *conn) {
	if s.pingInterval <= 0 {
		return
	}
	t := time.NewTicker(s.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second)); err != nil {
				return
			}
		}
	}
}

func (s *Server) readAcks(c *conn) {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var frame struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &frame) != nil || frame.EnvelopeID == "" {
			s.log("bottest: ignoring frame from client: %s", data)
			continue
		}
		s.recordAck(frame.EnvelopeID, frame.Payload)
	}
}

// liveConns counts links that are connected and not closing. Call with s.mu held.
func (s *Server) liveConns() int {
	n := 0
	for _, c := range s.conns {
		if !c.closing {
			n++
		}
	}
	return n
}

// Connections reports how many Socket Mode links are open and not closing.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.liveConns()
}

// WaitConnected waits until at least one Socket Mode link has received hello
// and has not been told to disconnect.
func (s *Server) WaitConnected(ctx context.Context) error {
	return s.wait(ctx, func() bool { return s.liveConns() > 0 })
}

// WaitDisconnected waits until no Socket Mode link is open, closing or not (a killed client's
// links close when its socket does).
func (s *Server) WaitDisconnected(ctx context.Context) error {
	return s.wait(ctx, func() bool { return len(s.conns) == 0 })
}

// Disconnect sends a disconnect frame with reason (refresh_requested, warning,
// link_disabled, too_many_websockets) on every open link. The links stop
// receiving envelopes at once and are closed when the client closes them or
// after the disconnect grace. It returns how many links were told.
func (s *Server) Disconnect(reason string) int {
	s.mu.Lock()
	var told []*conn
	for _, c := range s.conns {
		if !c.closing {
			c.closing = true
			told = append(told, c)
		}
	}
	s.notify()
	s.mu.Unlock()
	frame := obj{"type": "disconnect", "reason": reason, "debug_info": obj{"host": "applink-fake"}}
	for _, c := range told {
		if err := c.write(frame); err != nil {
			c.close()
			continue
		}
		go func() {
			t := time.NewTimer(s.disconnectGrace)
			defer t.Stop()
			select {
			case <-c.done:
			case <-t.C:
			}
			c.close()
		}()
	}
	s.log("bottest: disconnect %s sent to %d link(s)", reason, len(told))
	return len(told)
}

// Drop closes every open link without a disconnect frame, as a network failure would.
func (s *Server) Drop() {
	s.mu.Lock()
	conns := slices.Clone(s.conns)
	for _, c := range conns {
		c.closing = true
	}
	s.notify()
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// pickConn waits for an open link and returns the newest (WithSpread: the next in turn).
func (s *Server) pickConn(ctx context.Context) (*conn, error) {
	var c *conn
	err := s.wait(ctx, func() bool {
		if s.spread {
			var open []*conn
			for _, x := range s.conns {
				if !x.closing {
					open = append(open, x)
				}
			}
			if len(open) == 0 {
				return false
			}
			s.turn++
			c = open[s.turn%len(open)]
			return true
		}
		for i := len(s.conns) - 1; i >= 0; i-- {
			if !s.conns[i].closing {
				c = s.conns[i]
				return true
			}
		}
		return false
	})
	return c, err
}
