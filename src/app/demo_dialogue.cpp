#include "demo_dialogue.hpp"

namespace dynchat::app {

std::string_view demo_dialogue_json() {
  // A greeting, a question with three buttons, an email capture, a branch (a known lead
  // who wants a demo books one; one asking about pricing talks to an agent), a goal, a
  // meeting card and a live-chat card.
  return R"({
  "name": "Demo: welcome",
  "description": "Greets visitors, asks what brings them, captures an email and books a meeting or hands over",
  "priority": 1,
  "start": "greet",
  "cards": [
    {"id": "greet", "kind": "message", "text": "Hi {{lead.firstName:\"there\"}}, welcome to Acme!", "next": "ask"},
    {"id": "ask", "kind": "question", "text": "What brings you here today?", "answers": [
      {"label": "Pricing", "value": "pricing", "next": "email", "attribute": "chatInterest"},
      {"label": "A product demo", "value": "demo", "next": "email", "attribute": "chatInterest"},
      {"label": "Just browsing", "value": "browsing", "next": "bye"}]},
    {"id": "email", "kind": "capture", "text": "What is your work email? We will send you the details.",
     "capture": "email", "placeholder": "you@company.com", "when_known": "skip", "next": "known"},
    {"id": "known", "kind": "branch", "rules": [
      {"known": true, "conditions": [{"attribute": "chatInterest", "op": "is", "value": "demo"}], "next": "qualified"},
      {"known": true, "next": "live"}], "default": "bye"},
    {"id": "qualified", "kind": "goal", "name": "Qualified lead", "score": 2, "next": "meet"},
    {"id": "meet", "kind": "meeting", "text": "Pick a time to talk with our team.", "routing": "round_robin",
     "next": "bye", "fallback": "live"},
    {"id": "live", "kind": "live_chat", "text": "Let me connect you with someone from our team.",
     "fallback": {"text": "Everyone is busy right now; we will email you shortly.", "offer_meeting": true, "next": "bye"}},
    {"id": "bye", "kind": "end", "text": "Thanks for stopping by!"}
  ]
})";
}

} // namespace dynchat::app
