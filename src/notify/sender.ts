// The seam through which rendered notifications leave Sluice. Implementations (SMTP to the
// next hop, the store's outbox …) belong to the runtime wiring, not here.

export interface NotificationSender {
  /** `from` is the envelope sender: "" (null sender) for notifications, so nothing bounces back. */
  send(from: string, to: string, message: Buffer): Promise<void>;
}
