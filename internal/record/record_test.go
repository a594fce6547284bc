package record

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestFlowCatalogueNamesAndAliases(t *testing.T) {
	for name, want := range map[string]FieldID{
		"srcAddr": FlowSrcAddr, "srcaddr": FlowSrcAddr, "dstPort": FlowDstPort,
		"logStatus": FlowLogStatus, "log-status": FlowLogStatus,
		"start": FlowStart, "startTime": FlowStart, "endTime": FlowEnd,
		"pktDstAddr": FlowPktDstAddr, "pkt-dstaddr": FlowPktDstAddr,
		"@timestamp": FlowTimestamp, "ecsTaskId": FlowECSTaskID,
	} {
		f, ok := FlowCatalogue.Lookup(name)
		if !ok || f.ID != want {
			t.Errorf("Lookup(%q) = %v, %v; want field %d", name, f.Name, ok, want)
		}
	}
	if _, ok := FlowCatalogue.Lookup("SrcAddr"); ok {
		t.Error("field names must be case-sensitive")
	}
	if got := FlowCatalogue.Suggest("SRCADDR"); len(got) == 0 {
		t.Error("Suggest found nothing for SRCADDR")
	}
	if len(FlowCatalogue.Fields) != int(numFlowFields) || numFlowFields > 64 {
		t.Errorf("flow fields: %d in catalogue, %d constants (FieldSet holds 64)", len(FlowCatalogue.Fields), numFlowFields)
	}
	for _, name := range []string{"log_status", "pkt_srcaddr", "account-id", "tgw-src-eni", "reject-reason"} {
		if _, ok := FlowFieldByLogName(name); !ok {
			t.Errorf("FlowFieldByLogName(%q) not found", name)
		}
	}
	if _, ok := FlowFieldByLogName("@timestamp"); ok {
		t.Error("system fields are not log fields")
	}
}

func TestFlowGetRespectsPresence(t *testing.T) {
	f := Flow{Start: 1418530010, DstPort: 22, SrcAddr: netip.MustParseAddr("172.31.16.139"), Action: ActionAccept}
	f.Present = f.Present.Add(FlowStart).Add(FlowSrcAddr).Add(FlowAction)
	if v := f.Get(FlowDstPort); !v.IsMissing() {
		t.Errorf("dstPort not present but Get = %v", v)
	}
	if v := f.Get(FlowSrcAddr); v.Kind != Addr || v.String() != "172.31.16.139" {
		t.Errorf("srcAddr = %#v", v)
	}
	if v := f.Get(FlowAction); v.String() != "ACCEPT" {
		t.Errorf("action = %q", v)
	}
	if v := f.Get(FlowTimestamp); v.String() != "2014-12-14 04:06:50.000" {
		t.Errorf("@timestamp = %q", v)
	}
	f.ECS.TaskID = "abc"
	f.Present = f.Present.Add(FlowECSTaskID)
	if v := f.Get(FlowECSTaskID); v.String() != "abc" {
		t.Errorf("ecsTaskId = %q", v)
	}
}

func TestValueNumberAndText(t *testing.T) {
	cases := []struct {
		v      Value
		num    float64
		isNum  bool
		output string
	}{
		{StringValue("80"), 80, true, "80"},
		{StringValue("1.5"), 1.5, true, "1.5"},
		{StringValue("eni-1"), 0, false, "eni-1"},
		{IntValue(-3), -3, true, "-3"},
		{FloatValue(2), 2, true, "2"},
		{FloatValue(0.25), 0.25, true, "0.25"},
		{BoolValue(true), 1, true, "1"},
		{TimeValue(1584700643000), 1584700643000, true, "2020-03-20 10:37:23.000"},
		{Value{}, 0, false, ""},
	}
	for _, c := range cases {
		n, ok := c.v.Number()
		if ok != c.isNum || n != c.num {
			t.Errorf("%#v.Number() = %v, %v; want %v, %v", c.v, n, ok, c.num, c.isNum)
		}
		if s := c.v.String(); s != c.output {
			t.Errorf("%#v.String() = %q; want %q", c.v, s, c.output)
		}
	}
}

func TestJSONPath(t *testing.T) {
	raw := []byte(`{"eventName":"PutBucketPolicy","readOnly":false,"requestParameters":{"bucketName":"b1","policy":{"Statement":[{"Effect":"Allow"}]}},"resources":[{"ARN":"arn:aws:s3:::b1"}],"tags":{"team.name":"sec"},"n":42,"nul":null}`)
	for path, want := range map[string]string{
		"requestParameters.bucketName":                "b1",
		"requestParameters.policy.Statement.0.Effect": "Allow",
		"resources.0.ARN":                             "arn:aws:s3:::b1",
		"readOnly":                                    "false",
		"tags.team.name":                              "sec",
		"n":                                           "42",
	} {
		if got := JSONPath(raw, path); got.String() != want || got.IsMissing() {
			t.Errorf("JSONPath(%q) = %#v; want %q", path, got, want)
		}
	}
	for _, path := range []string{"nul", "requestParameters", "resources.1.ARN", "missing", "resources.x"} {
		if got := JSONPath(raw, path); !got.IsMissing() {
			t.Errorf("JSONPath(%q) = %#v; want missing", path, got)
		}
	}
	if got := JSONPath([]byte(`{not json`), "a"); !got.IsMissing() {
		t.Errorf("bad JSON gave %#v", got)
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range Kinds {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, err)
		}
	}
	if _, err := ParseKind("syslog"); err == nil {
		t.Error("ParseKind(syslog) succeeded")
	}
}

// TestResetFields: clearing every catalogue field one by one with ResetFields
// leaves a record whose every member was set as zero as Reset does, so no
// member is left out of clearField.
func TestResetFields(t *testing.T) {
	var f Flow
	fill(reflect.ValueOf(&f).Elem())
	f.Extra = append(f.Extra[:0], ExtraField{"a", "b"})
	for id := range FieldID(numFlowFields) {
		f.ResetFields(FieldSet(1) << id)
	}
	var want Flow
	want.Extra = f.Extra[:0]
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("after ResetFields of every field: %+v", f)
	}
	if cap(f.Extra) == 0 {
		t.Fatal("ResetFields dropped Extra's capacity")
	}

	// More fields than clearing one by one pays for: the whole record.
	fill(reflect.ValueOf(&f).Elem())
	f.ResetFields(1<<9 - 1)
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("after ResetFields of nine fields: %+v", f)
	}
}

// fill sets every member of v to a value other than its zero.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[netip.Addr]() {
			v.Set(reflect.ValueOf(netip.MustParseAddr("192.0.2.1")))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		v.SetUint(1)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte("line"))
		}
	}
}
