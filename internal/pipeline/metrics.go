package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the pipeline's Prometheus metrics. Everything that moves has a
// counter: records per source (decoded and passed to detection, or skipped
// with the decoder's reason), occurrences raised and dropped by a replay,
// commits, findings created and updated.
type Metrics struct {
	records         *prometheus.CounterVec
	skipped         *prometheus.CounterVec
	bytes           *prometheus.CounterVec
	chunks          *prometheus.CounterVec
	problems        *prometheus.CounterVec
	sourceRestarts  *prometheus.CounterVec
	occurrences     prometheus.Counter
	replayDropped   prometheus.Counter
	pending         prometheus.Gauge
	commits         *prometheus.CounterVec
	commitSeconds   prometheus.Histogram
	committed       *prometheus.CounterVec
	checkpointBytes prometheus.Gauge
	stateKeys       prometheus.Gauge
	watermark       *prometheus.GaugeVec
}

// NewMetrics makes the metrics and registers them with reg (nil: not
// registered, for tests and tools).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_source_records_total",
			Help: "Records decoded by a source and passed to detection."}, []string{"source"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_source_records_skipped_total",
			Help: "Records a source's decoder skipped, by reason."}, []string{"source", "reason"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_source_bytes_total",
			Help: "Bytes decoded by a source (after decompression)."}, []string{"source"}),
		chunks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_source_chunks_total",
			Help: "Chunks (units of commit) a source handed to detection."}, []string{"source"}),
		problems: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_source_problems_total",
			Help: "Problems with a source's input other than bad records (unreadable files, lost streams), by reason."}, []string{"source", "reason"}),
		sourceRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_source_restarts_total",
			Help: "Times a source failed and was restarted."}, []string{"source"}),
		occurrences: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_detect_occurrences_total",
			Help: "Occurrences raised by detection (before aggregation into findings; the rest of one raised at its threshold not counted again)."}),
		replayDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_replay_dropped_occurrences_total",
			Help: "Occurrences raised again while re-reading committed input after a restart, and dropped."}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_pipeline_pending_occurrences",
			Help: "Occurrences waiting for the next commit (the pipeline's queue)."}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_pipeline_commits_total",
			Help: "Commits of occurrences and checkpoints, by result (ok, error, fenced)."}, []string{"result"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vigil_pipeline_commit_seconds",
			Help: "Time a commit takes in the store.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		committed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_findings_committed_total",
			Help: "Findings written by commits: created, or updated by a repeat."}, []string{"result"}),
		checkpointBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_pipeline_checkpoint_bytes",
			Help: "Size of the last checkpoint written."}),
		stateKeys: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_detect_state_keys",
			Help: "Keys held by all detections (the detection state's size)."}),
		watermark: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_detect_watermark_seconds",
			Help: "Detection's event-time watermark per record kind, Unix seconds."}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.records, m.skipped, m.bytes, m.chunks, m.problems, m.sourceRestarts, m.occurrences,
			m.replayDropped, m.pending, m.commits, m.commitSeconds, m.committed, m.checkpointBytes, m.stateKeys, m.watermark)
	}
	return m
}
