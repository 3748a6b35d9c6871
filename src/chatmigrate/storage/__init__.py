"""Copying the chat images from the legacy bucket to Supabase Storage (``chatmigrate images``).

``source`` reads the legacy objects (S3 GetObject or a local folder), ``target`` writes
Supabase Storage through its S3 protocol, ``checks`` decides what may be uploaded
(magic bytes, extension, size), ``copy`` runs the bounded, resumable worker pool.
Only these modules import boto3.
"""
