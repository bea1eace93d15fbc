-- Run once as the postgres superuser:  sudo -u postgres psql -f deploy/postgres/init.sql
-- (change the password, and put the same one into DATABASE_URL in /etc/tuoyu/tuoyu.env).
CREATE ROLE tuoyu LOGIN PASSWORD 'replace-me';
CREATE DATABASE tuoyu OWNER tuoyu ENCODING 'UTF8' TEMPLATE template0;
-- Workers open at most DB_POOL_SIZE + DB_MAX_OVERFLOW connections each (default 30); keep
-- max_connections (postgresql.conf) above workers x 30 + CLI + maintenance.
