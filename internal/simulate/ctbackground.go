package simulate

import (
	"time"
)

// Background CloudTrail: the management events an estate produces without anyone
// attacking it. Most are machine traffic — SSM agents reporting in, EC2 handing
// instance-role credentials to instances, Prometheus discovering instances,
// applications decrypting and reading secrets — with people working in the
// console during US office hours and Terraform reading state. Calls made with
// instance-role credentials come from the instance's public address or, for
// private instances, the NAT gateway's Elastic IP: the baseline the
// InstanceCredentialExfiltration scenario departs from.

// ctModel is the precomputed CloudTrail model of one account in one region.
type ctModel struct {
	acc       *account
	region    string
	instances []*instance
	monitor   *instance
	apps      []*instance // instances that read secrets and decrypt with KMS
	ci        []*instance
	humans    []*iamUser
	bots      []*iamUser
	kmsKey    string
	secrets   []string
}

func newCTModel(seed uint64, acc *account, reg string) *ctModel {
	r := derive(seed, tag("ct-model"), tag(acc.id), tag(reg))
	m := &ctModel{acc: acc, region: reg, instances: acc.vpc.instances}
	for _, in := range acc.vpc.instances {
		switch in.role {
		case roleMonitoring:
			if m.monitor == nil {
				m.monitor = in
			}
		case roleApp, roleWeb, roleBatch:
			m.apps = append(m.apps, in)
		case roleCI:
			m.ci = append(m.ci, in)
		}
	}
	for _, u := range acc.users {
		if u.console {
			m.humans = append(m.humans, u)
		} else if u.name != "svc-legacy-ops" {
			m.bots = append(m.bots, u) // the legacy key is only ever used by the attacker
		}
	}
	m.kmsKey = "arn:aws:kms:" + reg + ":" + acc.id + ":key/" + r.uuid()
	prefix := "prod"
	if acc.alias != "nwt-prod" {
		prefix = "analytics"
	}
	m.secrets = []string{prefix + "/app/db-password", prefix + "/app/stripe-api-key", prefix + "/batch/queue-credentials", prefix + "/shared/datadog-api-key"}
	return m
}

// ctGen generates the background events of one account and region for one period.
type ctGen struct {
	m    *ctModel
	seed uint64
	r    rng
	f    ctFactory
}

// event returns one background event at time t.
func (g *ctGen) event(t int64) *ctEvent {
	r := &g.r
	m := g.m
	if m.region != region {
		return g.human(t) // the second region only sees people and Terraform
	}
	hour := time.Unix(t, 0).UTC().Hour()
	office := hour >= 13 && hour < 23
	switch x := r.intn(100); {
	case x < 34:
		return g.ssmPing(t)
	case x < 44:
		return g.credentialDelivery(t)
	case x < 56 && m.monitor != nil:
		return g.discovery(t)
	case x < 66 && len(m.apps) > 0:
		return g.appCall(t)
	case x < 72 && len(m.ci) > 0:
		return g.ciCall(t)
	case x < 86 && office:
		return g.human(t)
	default:
		return g.bot(t)
	}
}

// ssmPing is the SSM agent's periodic UpdateInstanceInformation.
func (g *ctGen) ssmPing(t int64) *ctEvent {
	in := g.m.instances[g.r.intn(len(g.m.instances))]
	id, _ := instanceRoleID(g.seed, in, t)
	ua, platform, name, version := uaSSMAgent, "Linux", "Ubuntu", "22.04"
	switch roles[in.role].os {
	case "windows":
		ua, platform, name, version = uaWinAgent, "Windows", "Microsoft Windows Server 2022 Datacenter", "10.0.20348"
	case "al2023":
		name, version = "Amazon Linux", "2023"
	case "debian":
		name, version = "Debian GNU/Linux", "12"
	}
	ev := g.f.event(g.m.acc, t, region, "ssm.amazonaws.com", "UpdateInstanceInformation", false, id, in.egressIP.String(), ua)
	ev.RequestParameters = o(
		"instanceId", in.id, "agentVersion", "3.3.987.0", "agentStatus", "Active", "platformType", platform,
		"platformName", name, "platformVersion", version, "iPAddress", in.privIP.String(),
		"computerName", ec2Hostname(in.privIP), "agentName", "amazon-ssm-agent",
		"availabilityZone", in.subnet.az, "availabilityZoneId", in.subnet.azID, "sSMConnectionChannel", "ssmmessages",
	)
	return ev
}

// credentialDelivery is EC2 assuming an instance's role to refresh the
// credentials it serves through IMDS.
func (g *ctGen) credentialDelivery(t int64) *ctEvent {
	in := g.m.instances[g.r.intn(len(g.m.instances))]
	s := sessionFor(g.seed, in, time.Unix(t, 0))
	ev := g.f.event(g.m.acc, t, region, "sts.amazonaws.com", "AssumeRole", true, serviceID("ec2.amazonaws.com"), "ec2.amazonaws.com", "ec2.amazonaws.com")
	ev.RequestParameters = o("roleArn", in.profile.arn, "roleSessionName", in.id)
	ev.ResponseElements = o(
		"credentials", o(
			"accessKeyId", s.accessKey,
			"sessionToken", sessionToken(&g.r),
			"expiration", expiration(time.Unix(t, 0).Add(instanceCredentialLifetime)),
		),
	)
	ev.Resources = []ctResource{{AccountID: g.m.acc.id, Type: "AWS::IAM::Role", ARN: in.profile.arn}}
	return ev
}

// discovery is Prometheus's EC2 service discovery listing instances.
func (g *ctGen) discovery(t int64) *ctEvent {
	in := g.m.monitor
	id, _ := instanceRoleID(g.seed, in, t)
	ev := g.f.event(g.m.acc, t, region, "ec2.amazonaws.com", "DescribeInstances", true, id, in.egressIP.String(), uaGoSDK)
	ev.RequestParameters = o(
		"instancesSet", o(),
		"filterSet", o("items", []any{
			o("name", "instance-state-name", "valueSet", o("items", []any{o("value", "running")})),
		}),
	)
	return ev
}

// appCall is an application reading a secret or decrypting with KMS.
func (g *ctGen) appCall(t int64) *ctEvent {
	in := g.m.apps[g.r.intn(len(g.m.apps))]
	id, _ := instanceRoleID(g.seed, in, t)
	if g.r.chance(1, 2) {
		ev := g.f.event(g.m.acc, t, region, "secretsmanager.amazonaws.com", "GetSecretValue", true, id, in.egressIP.String(), uaBoto3)
		ev.RequestParameters = o("secretId", g.m.secrets[g.r.intn(len(g.m.secrets))])
		return ev
	}
	ev := g.f.event(g.m.acc, t, region, "kms.amazonaws.com", "Decrypt", true, id, in.egressIP.String(), uaBoto3)
	ev.RequestParameters = o("encryptionAlgorithm", "SYMMETRIC_DEFAULT")
	ev.Resources = []ctResource{{AccountID: g.m.acc.id, Type: "AWS::KMS::Key", ARN: g.m.kmsKey}}
	return ev
}

// ciCall is a CI runner logging in to ECR.
func (g *ctGen) ciCall(t int64) *ctEvent {
	in := g.m.ci[g.r.intn(len(g.m.ci))]
	id, _ := instanceRoleID(g.seed, in, t)
	ev := g.f.event(g.m.acc, t, region, "ecr.amazonaws.com", "GetAuthorizationToken", true, id, in.egressIP.String(), uaCLI+"ecr.get-login-password")
	ev.RequestParameters = o("registryIds", []string{g.m.acc.id})
	return ev
}

var humanCalls = []struct{ source, name string }{
	{"ec2.amazonaws.com", "DescribeInstances"}, {"ec2.amazonaws.com", "DescribeSecurityGroups"},
	{"ec2.amazonaws.com", "DescribeVpcs"}, {"ec2.amazonaws.com", "DescribeInstanceStatus"},
	{"cloudwatch.amazonaws.com", "DescribeAlarms"}, {"logs.amazonaws.com", "DescribeLogGroups"},
	{"iam.amazonaws.com", "ListRoles"}, {"s3.amazonaws.com", "ListBuckets"},
	{"rds.amazonaws.com", "DescribeDBInstances"}, {"cloudtrail.amazonaws.com", "LookupEvents"},
}

// human is a person reading in the console.
func (g *ctGen) human(t int64) *ctEvent {
	m := g.m
	if len(m.humans) == 0 {
		return g.bot(t)
	}
	u := m.humans[g.r.intn(len(m.humans))]
	day := time.Unix(t, 0).UTC().Truncate(24 * time.Hour)
	sr := derive(g.seed, tag("console-session"), tag(u.name), uint64(day.Unix()))
	key := "ASIA" + sr.fromAlphabet(upperAlnum, 16)
	created := day.Add(13*time.Hour + time.Duration(sr.intn(3600))*time.Second)
	c := humanCalls[g.r.intn(len(humanCalls))]
	for m.region != region && isGlobal(c.source) {
		c = humanCalls[g.r.intn(len(humanCalls))]
	}
	ev := g.f.event(m.acc, t, m.region, c.source, c.name, true, consoleUserID(m.acc, u, key, created), u.sourceIP.String(), "AWS Internal")
	if c.source == "ec2.amazonaws.com" {
		ev.UserAgent = "console.ec2.amazonaws.com"
		ev.RequestParameters = o("maxResults", 1000)
	}
	ev.ConsoleSession = "true"
	return ev
}

var botCalls = []struct{ source, name string }{
	{"ec2.amazonaws.com", "DescribeVpcs"}, {"ec2.amazonaws.com", "DescribeSubnets"},
	{"ec2.amazonaws.com", "DescribeSecurityGroups"}, {"iam.amazonaws.com", "GetRole"},
	{"iam.amazonaws.com", "ListAttachedRolePolicies"}, {"s3.amazonaws.com", "GetBucketPolicy"},
	{"s3.amazonaws.com", "GetBucketVersioning"}, {"kms.amazonaws.com", "DescribeKey"},
	{"athena.amazonaws.com", "StartQueryExecution"}, {"glue.amazonaws.com", "GetTable"},
}

// bot is a long-term key at work: Terraform refreshing state, the ETL bot.
func (g *ctGen) bot(t int64) *ctEvent {
	m := g.m
	if len(m.bots) == 0 {
		return g.ssmPing(t)
	}
	u := m.bots[g.r.intn(len(m.bots))]
	c := botCalls[g.r.intn(len(botCalls))]
	for m.region != region && isGlobal(c.source) {
		c = botCalls[g.r.intn(len(botCalls))]
	}
	ev := g.f.event(m.acc, t, m.region, c.source, c.name, c.name != "StartQueryExecution", userID(m.acc, u), u.sourceIP.String(), u.userAgent)
	switch c.source {
	case "s3.amazonaws.com":
		ev.RequestParameters = o("bucketName", m.acc.bucket, "Host", m.acc.bucket+".s3.amazonaws.com")
	case "iam.amazonaws.com":
		ev.RequestParameters = o("roleName", m.acc.roles[g.r.intn(len(m.acc.roles))].name)
	}
	return ev
}

// isGlobal reports whether a service's events are always recorded in us-east-1
// (IAM, and the S3 calls the simulator uses), so they never appear in another
// region's files.
func isGlobal(source string) bool {
	return source == "iam.amazonaws.com" || source == "s3.amazonaws.com"
}
