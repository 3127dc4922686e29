-- Export walks one user's memories in id order (keyset pagination).
CREATE INDEX memories_user_id ON memories (user_id, id);
