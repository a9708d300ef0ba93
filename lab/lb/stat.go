package lb

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// statHeader is the "show stat" CSV header of HAProxy 2.6.12, verbatim: the
// static fields, then "-" and the stats modules' columns.
const statHeader = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,"

// Rows captured from HAProxy 2.6.12 in mode http; the fields osrun's lab
// keeps are overwritten, the rest keep HAProxy's empty-or-zero pattern so
// that a reader sees the same shape.
const (
	frontendRow = "fe,FRONTEND,,,0,0,9984,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,,0,0,0,0,0,0,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,0,0,0,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
	serverRow   = "web,fe01,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,1,1,2,6,,1,3,1,,0,,2,0,,0,L7OK,200,4,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,Layer7 check passed,,2,3,4,,,,127.0.0.1:19081,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,"
	backendRow  = "web,BACKEND,0,0,0,0,999,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,1,2,5,,1,3,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
)

// statColumns maps a column name to its index in statHeader.
var statColumns = func() map[string]int {
	names := strings.Split(strings.TrimSuffix(strings.TrimPrefix(statHeader, "# "), ","), ",")
	m := make(map[string]int, len(names))
	for i, n := range names {
		if _, dup := m[n]; !dup {
			m[n] = i
		}
	}
	return m
}()

// The rows' fields, split once: rendering copies them into a row it
// reuses rather than splitting a template per row (the driver reads the
// whole backend on every poll, so this runs for every server every time).
var (
	frontendFields = splitRow(frontendRow)
	serverFields   = splitRow(serverRow)
	backendFields  = splitRow(backendRow)
)

func splitRow(template string) row {
	return strings.Split(strings.TrimSuffix(template, ","), ",")
}

// row is one "show stat" line being filled in.
type row []string

// reset fills r (of the template's length, or nil) with the template's
// fields and returns it.
func (r row) reset(template row) row {
	if len(r) != len(template) {
		r = make(row, len(template))
	}
	copy(r, template)
	return r
}

func (r row) set(col string, v any) {
	i, ok := statColumns[col]
	if !ok {
		panic("lb: no stat column " + col) // a typo in this file
	}
	switch v := v.(type) {
	case string:
		r[i] = v
	case int:
		r[i] = strconv.Itoa(v)
	case int64:
		r[i] = strconv.FormatInt(v, 10)
	default:
		r[i] = fmt.Sprint(v)
	}
}

// writeTo writes the line, with HAProxy's trailing comma.
func (r row) writeTo(b *strings.Builder) {
	for _, f := range r {
		b.WriteString(f)
		b.WriteByte(',')
	}
	b.WriteByte('\n')
}

func (r row) counters(c *counters) {
	r.set("scur", c.scur)
	r.set("smax", c.smax)
	r.set("stot", c.stot)
	r.set("bin", c.bin)
	r.set("bout", c.bout)
	r.set("hrsp_1xx", c.hrsp[0])
	r.set("hrsp_2xx", c.hrsp[1])
	r.set("hrsp_3xx", c.hrsp[2])
	r.set("hrsp_4xx", c.hrsp[3])
	r.set("hrsp_5xx", c.hrsp[4])
	r.set("hrsp_other", c.hrsp[5])
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// Proxy ids as HAProxy numbers them for a configuration with one frontend
// and one backend (id 1 is its internal CLI proxy).
const (
	frontendID = 2
	backendID  = 3
)

// Object types of "show stat <proxy> <type> <sid>".
const (
	typeFrontend = 1
	typeBackend  = 2
	typeServer   = 4
)

// statLocked renders "show stat". proxy is -1 for all or a proxy id; sid
// is -1 for all servers.
func (l *LB) statLocked(proxy, mask, sid int) string {
	now := time.Now()
	var b strings.Builder
	b.Grow(len(statHeader) + 1 + (len(l.members)+2)*(len(serverRow)+64))
	b.WriteString(statHeader + "\n")
	var r row
	if (proxy == -1 || proxy == frontendID) && mask&typeFrontend != 0 {
		r = r.reset(frontendFields)
		r.set("pxname", l.cfg.Frontend)
		r.counters(&l.fe)
		r.set("req_tot", l.fe.stot)
		r.set("conn_tot", l.fe.stot)
		r.writeTo(&b)
	}
	if proxy != -1 && proxy != backendID {
		return b.String()
	}
	up, weight := 0, 0
	for _, m := range l.members {
		if m.up && m.admin == Ready {
			up++
			weight++
		}
		if mask&typeServer == 0 || (sid != -1 && sid != m.id) {
			continue
		}
		r = r.reset(serverFields)
		l.serverRowLocked(r, m, now)
		r.writeTo(&b)
	}
	if mask&typeBackend != 0 {
		r = r.reset(backendFields)
		r.set("pxname", l.cfg.Backend)
		r.counters(&l.be)
		r.set("lbtot", l.be.lbtot)
		r.set("econ", l.be.econ)
		r.set("eresp", l.be.eresp)
		r.set("wredis", l.be.wredis)
		r.set("srv_abrt", l.be.srvAbrt)
		r.set("cli_abrt", l.be.cliAbrt)
		r.set("req_tot", l.be.stot)
		r.set("weight", weight)
		r.set("act", up)
		r.set("lastchg", seconds(now.Sub(l.start)))
		r.set("status", map[bool]string{true: "UP", false: "DOWN"}[up > 0])
		r.set("chkdown", 0)
		r.writeTo(&b)
	}
	return b.String()
}

// maintHidden are the check columns HAProxy leaves empty for a server
// whose checks are paused.
var maintHidden = []string{"check_status", "check_code", "check_duration", "check_desc", "check_rise", "check_fall", "check_health", "last_chk"}

// serverRowLocked fills r, a copy of serverFields, for m.
func (l *LB) serverRowLocked(r row, m *member, now time.Time) {
	r.set("pxname", l.cfg.Backend)
	r.set("svname", m.cfg.Name)
	r.counters(&m.c)
	r.set("lbtot", m.c.lbtot)
	r.set("econ", m.c.econ)
	r.set("eresp", m.c.eresp)
	r.set("wredis", m.c.wredis)
	r.set("srv_abrt", m.c.srvAbrt)
	r.set("cli_abrt", m.c.cliAbrt)
	r.set("status", m.detail(l.cfg))
	r.set("chkfail", m.chkfail)
	r.set("chkdown", m.chkdown)
	r.set("lastchg", seconds(now.Sub(m.lastChange)))
	down := m.downtime
	if !m.up && !m.downSince.IsZero() {
		down += now.Sub(m.downSince)
	}
	r.set("downtime", seconds(down))
	r.set("sid", m.id)
	r.set("addr", m.cfg.Addr)
	if m.admin == Maint {
		for _, c := range maintHidden {
			r.set(c, "")
		}
		return
	}
	ck := m.check
	r.set("check_status", ck.status)
	r.set("check_code", "")
	if ck.code != 0 {
		r.set("check_code", ck.code)
	}
	r.set("check_duration", ck.duration.Milliseconds())
	r.set("check_desc", ck.desc)
	r.set("last_chk", ck.info)
	r.set("check_rise", l.cfg.Rise)
	r.set("check_fall", l.cfg.Fall)
	r.set("check_health", m.health)
}

// serversStateHeader is "show servers state" format version 1 (2.6).
const serversStateHeader = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"

func (l *LB) serversStateLocked() string {
	now := time.Now()
	var b strings.Builder
	b.Grow(len(serversStateHeader) + len(l.members)*128)
	b.WriteString(serversStateHeader)
	for _, m := range l.members {
		host, port := splitAddr(m.cfg.Addr)
		op := 0 // SRV_ST_STOPPED
		if m.up {
			op = 2 // SRV_ST_RUNNING
		}
		admin, checkState := 0, 6 // CHK_ST_CONFIGURED|CHK_ST_ENABLED
		switch m.admin {
		case Drain:
			admin = 0x08 // SRV_ADMF_FDRAIN
		case Maint:
			admin, checkState = 0x01, 14 // SRV_ADMF_FMAINT; checks paused
		}
		fmt.Fprintf(&b, "%d %s %d %s %s %d %d 1 1 %d %d %d %d %d 0 0 0 - %s - 0 0 - - 0\n",
			backendID, l.cfg.Backend, m.id, m.cfg.Name, host, op, admin,
			seconds(now.Sub(m.lastChange)), m.check.statusCode(), m.check.resultCode(), m.health, checkState, port)
	}
	return b.String()
}

func splitAddr(addr string) (host, port string) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return addr, "0"
	}
	return addr[:i], addr[i+1:]
}
