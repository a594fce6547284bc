package simulate

import (
	"net/netip"
	"time"
)

// iamUser is an IAM user (or the root user) as CloudTrail names it.
type iamUser struct {
	name        string
	principalID string // AIDA… (the account id for root)
	arn         string
	accessKey   string // AKIA…: the long-term key, empty for console-only users
	console     bool   // signs in to the console (with MFA)
	root        bool
	sourceIP    netip.Addr // where the user normally works from
	userAgent   string
}

// iamRole is an IAM role; instance roles have an instance profile.
type iamRole struct {
	name      string
	roleID    string // AROA…
	arn       string
	profileID string // AIPA…, empty unless the role has an instance profile
	profile   string // instance profile ARN
}

// The user agents of the simulated callers, in the shapes their SDKs send.
const (
	uaBrowser   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
	uaCLI       = "aws-cli/2.18.9 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1016-aws md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#"
	uaSSMAgent  = "aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.987.0"
	uaBoto3     = "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#6.1.112-122.189.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.10 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.36"
	uaGoSDK     = "aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.182.0"
	uaTerraform = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.72.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64"
	uaWinAgent  = "aws-sdk-go/1.55.5 (go1.22.7; windows; amd64) amazon-ssm-agent/3.3.987.0"
	// uaKali is the exact user agent AWS's GuardDuty tester sends to raise
	// PenTest:IAMUser/KaliLinux.
	uaKali = "aws-cli/2.23.6 md/awscrt#0.23.4 ua/2.0 os/linux#6.11.2-amd64 md/arch#x86_64 lang/python#3.12.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#kali.2025 md/prompt#off md/command#iam.get-user"
)

func newUser(r *rng, acc *account, name string, key, console bool, ip netip.Addr, ua string) *iamUser {
	u := &iamUser{
		name:        name,
		principalID: "AIDA" + r.fromAlphabet(upperAlnum, 17),
		arn:         "arn:aws:iam::" + acc.id + ":user/" + name,
		console:     console,
		sourceIP:    ip,
		userAgent:   ua,
	}
	if key {
		u.accessKey = "AKIA" + r.fromAlphabet(upperAlnum, 16)
	}
	acc.users = append(acc.users, u)
	return u
}

func newRole(r *rng, acc *account, name string, profile bool) *iamRole {
	rl := &iamRole{
		name:   name,
		roleID: "AROA" + r.fromAlphabet(upperAlnum, 17),
		arn:    "arn:aws:iam::" + acc.id + ":role/" + name,
	}
	if profile {
		rl.profileID = "AIPA" + r.fromAlphabet(upperAlnum, 17)
		rl.profile = "arn:aws:iam::" + acc.id + ":instance-profile/" + name
	}
	acc.roles = append(acc.roles, rl)
	return rl
}

// addPrincipals creates the account's users and roles and gives every instance
// the instance-profile role of its tier.
func (acc *account) addPrincipals(r *rng, e *estate) {
	office := randomPublicIP(r)
	acc.root = &iamUser{
		name:        "root",
		root:        true,
		principalID: acc.id,
		arn:         "arn:aws:iam::" + acc.id + ":root",
		console:     true,
		sourceIP:    office,
		userAgent:   uaBrowser,
	}
	switch acc.alias {
	case "nwt-prod":
		newUser(r, acc, "alice", false, true, office, uaBrowser)
		newUser(r, acc, "bob", false, true, randomPublicIP(r), uaBrowser)
		newUser(r, acc, "terraform", true, false, office, uaTerraform)
		newUser(r, acc, "svc-legacy-ops", true, false, e.instance("ops-tools-1").egressIP, uaCLI+"cloudtrail.describe-trails")
		newRole(r, acc, "nwt-prod-deploy", false)
	case "nwt-analytics":
		newUser(r, acc, "carol", false, true, randomPublicIP(r), uaBrowser)
		newUser(r, acc, "etl-bot", true, false, acc.vpc.nat.eip.publicIP, uaBoto3)
		newRole(r, acc, "nwt-analytics-audit", false)
	}
	tierRoles := make(map[role]*iamRole)
	for _, in := range acc.vpc.instances {
		rl, ok := tierRoles[in.role]
		if !ok {
			rl = newRole(r, acc, acc.alias+"-"+roles[in.role].tier+"-instance", true)
			tierRoles[in.role] = rl
		}
		in.profile = rl
	}
}

func (acc *account) user(name string) *iamUser {
	for _, u := range acc.users {
		if u.name == name {
			return u
		}
	}
	panic("BUG: no user " + name + " in " + acc.alias)
}

func (acc *account) role(name string) *iamRole {
	for _, rl := range acc.roles {
		if rl.name == name {
			return rl
		}
	}
	panic("BUG: no role " + name + " in " + acc.alias)
}

// instanceCredentialLifetime is how long the temporary credentials EC2 delivers
// to an instance through IMDS stay the same before they are rotated.
const instanceCredentialLifetime = 6 * time.Hour

// instanceSession is one set of instance-role credentials: the access key and
// when the session began. It is a pure function of the seed, the instance and
// the time, so background calls and scenarios agree on which key was in use.
type instanceSession struct {
	accessKey string
	created   time.Time
}

func sessionFor(seed uint64, in *instance, t time.Time) instanceSession {
	slot := t.Unix() / int64(instanceCredentialLifetime/time.Second)
	r := derive(seed, tag("instance-session"), tag(in.id), uint64(slot))
	created := time.Unix(slot*int64(instanceCredentialLifetime/time.Second), 0).UTC().Add(-time.Duration(r.between(60, 900)) * time.Second)
	return instanceSession{accessKey: "ASIA" + r.fromAlphabet(upperAlnum, 16), created: created}
}
