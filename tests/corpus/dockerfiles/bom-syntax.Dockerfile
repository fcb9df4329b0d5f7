# syntax=docker/dockerfile:1.7
FROM python:3.12-slim AS base
RUN pip install --require-hashes -r requirements.txt
