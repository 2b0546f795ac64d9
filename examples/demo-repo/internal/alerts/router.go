package alerts

// AlertRouter fans alerts out to channels.
type AlertRouter struct {
	channels []Notifier
}

type Notifier interface {
	Notify(msg string) error
}

// SlackNotifier posts to a Slack webhook.
type SlackNotifier struct{ URL string }

func (s SlackNotifier) Notify(msg string) error {
	panic("not implemented")
}

// FIXME: EmailNotifier needs an SMTP client first.
