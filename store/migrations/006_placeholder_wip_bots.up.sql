-- 006: placeholder on branch wip-bots only, so that 007 applies without a gap;
-- the lead drops it when merging (another branch owns this number).
SELECT 1;
