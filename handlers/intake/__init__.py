"""The idea intake: a resident's problem, place, topic, idea, photos and contact, asked in order
(navigation), each question and its answer, and the summary before it is sent (review)."""
