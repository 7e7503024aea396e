"""Residents' data rights (know, correct, erase), consent per purpose, and retention."""
