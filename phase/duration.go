package phase

import (
	"strconv"
	"time"
)

// HumanDuration formats d the way kubectl prints ages and "(5m ago)" (k8s.io/apimachinery's
// duration.HumanDuration): two or three significant figures, seconds up to 2 minutes, minutes
// and seconds below 10 minutes, minutes below 3 hours, hours and minutes below 8 hours, hours
// below 2 days, days and hours below 8 days, days below 2 years, years and days below 8 years,
// then years. A duration down to one second negative (clock skew) is "0s"; below that, "<invalid>".
func HumanDuration(d time.Duration) string {
	if seconds := int(d.Seconds()); seconds < -1 {
		return "<invalid>"
	} else if seconds < 0 {
		return "0s"
	} else if seconds < 60*2 {
		return itoa(seconds) + "s"
	}
	minutes := int(d / time.Minute)
	if minutes < 10 {
		if s := int(d/time.Second) % 60; s != 0 {
			return itoa(minutes) + "m" + itoa(s) + "s"
		}
		return itoa(minutes) + "m"
	} else if minutes < 60*3 {
		return itoa(minutes) + "m"
	}
	hours := int(d / time.Hour)
	switch {
	case hours < 8:
		if m := minutes % 60; m != 0 {
			return itoa(hours) + "h" + itoa(m) + "m"
		}
		return itoa(hours) + "h"
	case hours < 48:
		return itoa(hours) + "h"
	case hours < 24*8:
		if h := hours % 24; h != 0 {
			return itoa(hours/24) + "d" + itoa(h) + "h"
		}
		return itoa(hours/24) + "d"
	case hours < 24*365*2:
		return itoa(hours/24) + "d"
	case hours < 24*365*8:
		if dy := hours / 24 % 365; dy != 0 {
			return itoa(hours/24/365) + "y" + itoa(dy) + "d"
		}
		return itoa(hours/24/365) + "y"
	}
	return itoa(hours/24/365) + "y"
}

func itoa(n int) string { return strconv.Itoa(n) }
