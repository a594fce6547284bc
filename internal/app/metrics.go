package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/export"
	"github.com/vigil-dev/vigil/internal/ingest/firehose"
	"github.com/vigil-dev/vigil/internal/notify"
	"github.com/vigil-dev/vigil/internal/pipeline"
	"github.com/vigil-dev/vigil/internal/respond"
	"github.com/vigil-dev/vigil/internal/suppress"
)

// metrics are the app's own counters.
type metrics struct {
	publishErrors *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		publishErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_publish_errors_total",
			Help: "Commits whose results could not be queued for notify, export or respond."}, []string{"to"}),
	}
	reg.MustRegister(m.publishErrors)
	return m
}

// statsCollector turns the components' own counters (their Stats) into
// Prometheus metrics at each scrape, so that the components need not know
// Prometheus.
type statsCollector struct {
	disp      *notify.Dispatcher
	exporters []*export.Exporter
	resp      *respond.Responder
	sup       *suppress.Engine
	api       *api.Server
	firehoses map[string]*firehose.Source
}

var (
	descNotifySent     = prometheus.NewDesc("vigil_notify_alerts_sent_total", "Alerts delivered, per destination.", []string{"destination", "kind"}, nil)
	descNotifyFailed   = prometheus.NewDesc("vigil_notify_send_failures_total", "Failed sends, per destination.", []string{"destination", "kind"}, nil)
	descNotifyDead     = prometheus.NewDesc("vigil_notify_dead_lettered_total", "Alerts given up on (dead letters), per destination.", []string{"destination", "kind"}, nil)
	descNotifyEnqueued = prometheus.NewDesc("vigil_notify_alerts_enqueued_total", "Alerts queued, per destination.", []string{"destination", "kind"}, nil)
	descNotifyFiltered = prometheus.NewDesc("vigil_notify_alerts_filtered_total", "Changes a destination's filter left out.", []string{"destination", "kind"}, nil)
	descNotifyQueue    = prometheus.NewDesc("vigil_notify_queue_depth", "Alerts waiting in the outbox, per destination.", []string{"destination", "kind"}, nil)
	descNotifyIgnored  = prometheus.NewDesc("vigil_notify_ignored_total", "Changes of archived or suppressed findings: never sent.", nil, nil)
	descExportObjects  = prometheus.NewDesc("vigil_export_objects_total", "Objects written, per export.", []string{"export"}, nil)
	descExportQueue    = prometheus.NewDesc("vigil_export_queue_depth", "Findings waiting to be exported, per export.", []string{"export"}, nil)
	descExportFailed   = prometheus.NewDesc("vigil_export_failures_total", "Failed writes, per export.", []string{"export"}, nil)
	descRespond        = prometheus.NewDesc("vigil_respond_decisions_total", "Blocking decisions, by what happened (decided, extended, dry_run, expired, evicted, removed).", []string{"event"}, nil)
	descRespondSkipped = prometheus.NewDesc("vigil_respond_skipped_total", "Addresses not blocked, by reason.", []string{"reason"}, nil)
	descRespondTarget  = prometheus.NewDesc("vigil_respond_target_errors_total", "Failed calls to a blocking target.", []string{"target"}, nil)
	descRespondPending = prometheus.NewDesc("vigil_respond_target_pending", "Changes waiting for a target's next batch.", []string{"target"}, nil)
	descSuppressed     = prometheus.NewDesc("vigil_suppress_archived_total", "Occurrences archived by suppression rules.", nil, nil)
	descSuppressCheck  = prometheus.NewDesc("vigil_suppress_checked_total", "Occurrences checked against suppression rules.", nil, nil)
	descAPIRequests    = prometheus.NewDesc("vigil_api_requests_total", "API requests, by outcome.", []string{"outcome"}, nil)
	descFirehose       = prometheus.NewDesc("vigil_firehose_requests_total", "Firehose deliveries, by outcome.", []string{"source", "outcome"}, nil)
)

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	if c.disp != nil {
		st := c.disp.Stats()
		counter(descNotifyIgnored, st.Ignored)
		for _, d := range st.Destinations {
			counter(descNotifySent, d.Sent, d.Name, d.Kind)
			counter(descNotifyFailed, d.Failed, d.Name, d.Kind)
			counter(descNotifyDead, d.DeadLettered, d.Name, d.Kind)
			counter(descNotifyEnqueued, d.Enqueued, d.Name, d.Kind)
			counter(descNotifyFiltered, d.Filtered, d.Name, d.Kind)
			gauge(descNotifyQueue, d.QueueDepth, d.Name, d.Kind)
		}
	}
	for _, e := range c.exporters {
		st := e.Stats()
		counter(descExportObjects, st.Objects, st.Name)
		counter(descExportFailed, st.Failed, st.Name)
		gauge(descExportQueue, st.QueueDepth, st.Name)
	}
	if c.resp != nil {
		st := c.resp.Stats()
		for event, v := range map[string]int64{"decided": st.Decided, "extended": st.Extended, "dry_run": st.DryRun,
			"expired": st.Expired, "evicted": st.Evicted, "removed": st.Removed} {
			counter(descRespond, v, event)
		}
		for reason, v := range st.Skipped {
			counter(descRespondSkipped, v, reason)
		}
		for name, t := range st.Targets {
			counter(descRespondTarget, t.Errors, name)
			gauge(descRespondPending, int64(t.Pending), name)
		}
	}
	if c.sup != nil {
		counter(descSuppressed, c.sup.Counters.Archived.Load())
		counter(descSuppressCheck, c.sup.Counters.Checked.Load())
	}
	if c.api != nil {
		cs := &c.api.Counters
		counter(descAPIRequests, cs.Requests.Load()-cs.ClientErrors.Load()-cs.ServerErrors.Load(), "ok")
		counter(descAPIRequests, cs.ClientErrors.Load(), "client_error")
		counter(descAPIRequests, cs.ServerErrors.Load(), "server_error")
	}
	for name, f := range c.firehoses {
		cs := &f.Counters
		counter(descFirehose, cs.Accepted.Load(), name, "accepted")
		counter(descFirehose, cs.Duplicates.Load(), name, "duplicate")
		counter(descFirehose, cs.Rejected.Load(), name, "rejected")
		counter(descFirehose, cs.Failed.Load(), name, "failed")
	}
}

// registerComponentMetrics registers the collector of the components' Stats.
func registerComponentMetrics(reg prometheus.Registerer, disp *notify.Dispatcher, exporters []*export.Exporter, resp *respond.Responder,
	sup *suppress.Engine, apiSrv *api.Server, sources []pipeline.NamedSource) {
	c := &statsCollector{disp: disp, exporters: exporters, resp: resp, sup: sup, api: apiSrv, firehoses: map[string]*firehose.Source{}}
	for _, s := range sources {
		if f, ok := s.Source.(*firehose.Source); ok {
			c.firehoses[s.Name] = f
		}
	}
	reg.MustRegister(c)
}
