package query

import (
	"math"

	"github.com/vigil-dev/vigil/internal/record"
)

// Numeric functions (§5.1). A missing or non-numeric argument gives missing.

func init() {
	register("abs", numFn(func(x float64) (float64, bool) { return math.Abs(x), true }))
	register("ceil", numFn(func(x float64) (float64, bool) { return math.Ceil(x), true }))
	register("floor", numFn(func(x float64) (float64, bool) { return math.Floor(x), true }))
	register("log", numFn(func(x float64) (float64, bool) { return math.Log(x), x > 0 }))
	register("sqrt", numFn(func(x float64) (float64, bool) { return math.Sqrt(x), x >= 0 }))
	register("toNumber", numFn(func(x float64) (float64, bool) { return x, true }))
	register("toDouble", func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			x, ok := toNumber(a(r))
			if !ok {
				return missing
			}
			return record.FloatValue(x)
		}, nil
	})
	register("toInt", intFn(math.MinInt32, math.MaxInt32))
	register("toLong", intFn(math.MinInt64, math.MaxInt64))
	register("greatest", extremeFn(1))
	register("least", extremeFn(-1))
	register("round", buildRound)
	register("haversine", buildHaversine)
}

// numFn builds a one-argument numeric function; f's false result gives
// missing (log of a negative number).
func numFn(f func(float64) (float64, bool)) builder {
	return func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			v := a(r)
			if v.Kind == record.Int && f != nil {
				// Keep integers exact where the function is the identity on them.
				switch call.Name {
				case "abs":
					if v.Int >= 0 {
						return v
					}
					if v.Int != math.MinInt64 {
						return record.IntValue(-v.Int)
					}
				case "ceil", "floor", "tonumber":
					return v
				}
			}
			x, ok := toNumber(v)
			if !ok {
				return missing
			}
			y, ok := f(x)
			if !ok {
				return missing
			}
			return numValue(y)
		}, nil
	}
}

// intFn builds toInt and toLong: the number truncated toward zero, missing
// outside [lo, hi].
func intFn(lo, hi float64) builder {
	return func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			v := a(r)
			if n, ok := toInt(v); ok && float64(n) >= lo && float64(n) <= hi {
				return record.IntValue(n)
			}
			x, ok := toNumber(v)
			if !ok || math.IsNaN(x) || x < lo || x > hi {
				return missing
			}
			return record.IntValue(int64(math.Trunc(x)))
		}, nil
	}
}

// extremeFn builds greatest (sign 1) and least (-1): the largest or
// smallest of the numeric arguments; missing ones are skipped, so
// greatest(@initDuration, 0) is 0 when @initDuration is absent.
func extremeFn(sign int) builder {
	return func(c *Compiler, call *CallExpr) (Eval, error) {
		args, err := c.args(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			var best record.Value
			var bestF float64
			for _, a := range args {
				v := a(r)
				x, ok := toNumber(v)
				if !ok {
					continue
				}
				if best.Kind == record.Missing || cmpFloat(x, bestF) == sign {
					best, bestF = v, x
				}
			}
			if best.Kind == record.String {
				return numValue(bestF)
			}
			return best
		}, nil
	}
}

// buildRound builds round(a [, d]): a rounded half away from zero to d
// decimal places (0 by default; negative d rounds to tens, hundreds…).
func buildRound(c *Compiler, call *CallExpr) (Eval, error) {
	args, err := c.args(call)
	if err != nil {
		return nil, err
	}
	return func(r *Row) record.Value {
		x, ok := toNumber(args[0](r))
		if !ok {
			return missing
		}
		d := int64(0)
		if len(args) > 1 {
			if d, ok = toInt(args[1](r)); !ok || d < -15 || d > 15 {
				return missing
			}
		}
		p := math.Pow(10, float64(d))
		return numValue(math.Round(x*p) / p)
	}, nil
}

// buildHaversine builds haversine(lat1, lon1, lat2, lon2): the great-circle
// distance in kilometres on a sphere of radius 6371 km.
func buildHaversine(c *Compiler, call *CallExpr) (Eval, error) {
	args, err := c.args(call)
	if err != nil {
		return nil, err
	}
	return func(r *Row) record.Value {
		var v [4]float64
		for i, a := range args {
			x, ok := toNumber(a(r))
			if !ok {
				return missing
			}
			v[i] = x * math.Pi / 180
		}
		dlat, dlon := v[2]-v[0], v[3]-v[1]
		h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(v[0])*math.Cos(v[2])*math.Sin(dlon/2)*math.Sin(dlon/2)
		return numValue(2 * 6371 * math.Asin(math.Min(1, math.Sqrt(h))))
	}, nil
}
